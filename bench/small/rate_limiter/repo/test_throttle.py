from throttle import RateLimiter


def test_limit_reached():
    limiter = RateLimiter(limit=2, window=10)
    assert limiter.allow(0)
    assert limiter.allow(1)
    assert not limiter.allow(5)


def test_window_boundary():
    limiter = RateLimiter(limit=2, window=10)
    limiter.allow(0)
    limiter.allow(1)
    assert limiter.allow(10)
    assert not limiter.allow(10.5)


def test_remaining():
    limiter = RateLimiter(limit=3, window=10)
    limiter.allow(0)
    assert limiter.remaining(5) == 2
    assert limiter.remaining(30) == 3
