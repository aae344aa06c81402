"""Exponential backoff schedule for the HTTP client's retries."""


def delay(attempt, base=0.5, cap=30.0):
    """Seconds to wait before retry number `attempt` (0 for the first retry):
    base * 2**attempt, but never more than `cap`."""
    return max(base * 2 ** attempt, cap)


def delays(retries, base=0.5, cap=30.0):
    """The delays before each of `retries` retries."""
    return [delay(attempt, base, cap) for attempt in range(retries)]


def total_wait(retries, base=0.5, cap=30.0):
    return sum(delays(retries, base, cap))
