"""Policy `rewrite_guard` (config.json "policies"), used by edits.py; the class says what it does and why."""

import re

DEF_RE = re.compile(r"^\s*(?:async\s+)?(?:def|class|function|func|fn)\s+(\w+)", re.M)
LAZY_RE = re.compile(r"^\s*(#|//|/\*)\s*(\.\.\.|rest of|existing code|remaining|unchanged)", re.I)


class Policy:
    """Refuse a whole-file rewrite that looks wrong: a fragment (a file of at least `min_lines`
    lines shrinking below `min_kept` of them), a placeholder comment ("# ... rest unchanged"),
    or content lacking a function/class the file defines. Measured: the 1.5B model "rewrote" a
    file with only the function it fixed."""

    def __init__(self, enabled=True, min_lines=20, min_kept=0.5, placeholders=True, lost_definitions=True):
        self.enabled, self.min_lines, self.min_kept = enabled, min_lines, min_kept
        self.placeholders, self.lost_definitions = placeholders, lost_definitions

    def problem(self, path, text, content):
        """Why the rewrite of `path` from `text` to `content` is refused, or None."""
        if not self.enabled:
            return None
        old, new = text.splitlines(), content.splitlines()
        if len(old) >= self.min_lines and len(new) < len(old) * self.min_kept:
            return ("refused to rewrite %s: %d lines would replace %d, which looks like a fragment; "
                    "use SEARCH/REPLACE for partial changes" % (path, len(new), len(old)))
        lazy = [n for n in new if LAZY_RE.match(n) and n not in old] if self.placeholders else []
        if lazy:
            return ("refused to rewrite %s: the new content has a placeholder line (%s); write the "
                    "complete file" % (path, lazy[0].strip()))
        lost = [d for d in DEF_RE.findall(text) if d not in DEF_RE.findall(content)]
        if lost and self.lost_definitions:
            return ("refused to rewrite %s: the new content lacks %s, which the file defines now. "
                    "Send the complete file (every function, changed or not), or use SEARCH/REPLACE "
                    "to change a part" % (path, ", ".join(lost[:5])))
        return None
