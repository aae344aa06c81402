"""Sliding-window rate limiting for the public API. Times are seconds (floats)."""
from collections import deque


class RateLimiter:
    """Allows at most `limit` requests in any `window` seconds: a request at time t counts
    requests made after t - window."""

    def __init__(self, limit, window):
        self.limit = limit
        self.window = window
        self._times = deque()

    def _expire(self, now):
        while self._times and self._times[0] < now - self.window:
            self._times.popleft()

    def allow(self, now):
        """Record and allow a request at `now`, or refuse it (False, not recorded)."""
        self._expire(now)
        if len(self._times) >= self.limit:
            return False
        self._times.append(now)
        return True

    def remaining(self, now):
        self._expire(now)
        return self.limit - len(self._times)
