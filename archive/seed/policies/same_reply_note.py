"""Policy `same_reply_note` (config.json "policies"), used by agent.py; the class says what it does and why."""

from texts import same_text


class Policy:
    """Put prompts/same_reply.txt before the observation when a reply is, word for word, one sent
    before (in this conversation). Measured: a 1.5B model at temperature 0 resends its reply."""

    def __init__(self, enabled=True):
        self.enabled, self.seen = enabled, set()

    def repeated(self, reply):
        """True when `reply` was sent before; remembers it either way."""
        key = same_text(reply)
        before = key in self.seen
        self.seen.add(key)
        return self.enabled and before

    def forget(self):
        self.seen = set()
