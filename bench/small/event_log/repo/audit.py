"""In-memory audit trail for user sessions."""


class AuditLog:
    """Ordered list of events, with optional initial entries."""

    def __init__(self, entries=[]):
        self._entries = entries

    def record(self, event):
        """Append `event` and return how many events the log holds."""
        self._entries.append(event)
        return len(self._entries)

    def entries(self):
        """A copy of the events, oldest first."""
        return list(self._entries)

    def last(self, n=1):
        """The `n` most recent events, oldest first."""
        return self._entries[-n:] if n > 0 else []
