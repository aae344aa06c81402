"""Anagram helpers for the word game."""


def signature(word):
    """A key shared by all anagrams of `word`, ignoring case."""
    return "".join(sorted(word))


def group_anagrams(words):
    """Lists of words that are anagrams of each other; groups in order of first appearance,
    words within a group in input order."""
    groups = {}
    for word in words:
        groups.setdefault(signature(word), []).append(word)
    return list(groups.values())


def is_anagram(a, b):
    return a.lower() != b.lower() and signature(a) == signature(b)
