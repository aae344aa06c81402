"""Prefix tree behind the search box's autocomplete."""


class Trie:
    END = "$"

    def __init__(self, words=()):
        self.root = {}
        for word in words:
            self.add(word)

    def add(self, word):
        node = self.root
        for ch in word:
            node = node.setdefault(ch, {})
        node[self.END] = True

    def __contains__(self, word):
        node = self._find(word)
        return node is not None and self.END in node

    def _find(self, prefix):
        """The node reached by following `prefix`, or None."""
        node = self.root
        for ch in prefix:
            if ch not in node:
                return None
            node = node[ch]
        return node

    def complete(self, prefix):
        """Every stored word that starts with `prefix` (the prefix itself included when it
        was stored), sorted alphabetically, without duplicates; [] when none does."""
        raise NotImplementedError
