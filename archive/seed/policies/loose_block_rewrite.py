"""Policy `loose_block_rewrite` (config.json "policies"), used by reply_parser.py; the class says what it does and why."""

import difflib
import os


class Policy:
    """An untagged, unnamed code block that closely resembles a file shown in the first prompt
    (line similarity at least `min_similarity`, at least `min_length` of its length) is taken as
    that file's rewrite, when the reply has no other edit: small models answer with just the
    corrected file."""

    def __init__(self, enabled=True, min_similarity=0.5, min_length=0.8):
        self.enabled, self.min_similarity, self.min_length = enabled, min_similarity, min_length

    def pick(self, bodies, root, focus):
        """[write action] for the shown file most like one of `bodies` (lists of lines), or []."""
        best = (self.min_similarity, [])
        for body in bodies if self.enabled else ():
            for path in focus:
                try:
                    with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
                        old = f.read().splitlines()
                except OSError:
                    continue
                ratio = difflib.SequenceMatcher(None, old, body).ratio()
                if ratio >= best[0] and len(body) >= self.min_length * len(old):
                    best = (ratio, [{"kind": "write", "path": path, "content": "\n".join(body) + "\n"}])
        return best[1]
