"""Policy `lenient_search` (config.json "policies"), used by edits.py; the class says what it does and why."""


class Policy:
    """SEARCH lines that do not match exactly may still match ignoring trailing whitespace, then
    ignoring indentation (the REPLACE lines are then re-indented): small models copy lines with
    the wrong indentation."""

    def __init__(self, enabled=True):
        self.enabled = enabled

    def comparisons(self):
        exact = [lambda a, b: a == b]
        if not self.enabled:
            return exact
        return exact + [lambda a, b: a.rstrip() == b.rstrip(), lambda a, b: a.strip() == b.strip()]
