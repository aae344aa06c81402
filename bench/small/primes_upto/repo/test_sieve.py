from sieve import is_prime, primes_up_to


def test_limit_not_prime():
    assert primes_up_to(10) == [2, 3, 5, 7]


def test_limit_is_prime():
    assert primes_up_to(13) == [2, 3, 5, 7, 11, 13]
    assert primes_up_to(2) == [2]


def test_small_limits():
    assert primes_up_to(1) == []
    assert primes_up_to(-5) == []


def test_agrees_with_is_prime():
    assert primes_up_to(100) == [n for n in range(101) if is_prime(n)]
