"""Prime numbers for the math-quiz generator."""


def primes_up_to(limit):
    """All primes p with 2 <= p <= limit, ascending (the limit itself included)."""
    if limit < 2:
        return []
    is_prime = [True] * (limit + 1)
    is_prime[0] = is_prime[1] = False
    for n in range(2, int(limit ** 0.5) + 1):
        if is_prime[n]:
            for multiple in range(n * n, limit + 1, n):
                is_prime[multiple] = False
    return [n for n in range(2, limit) if is_prime[n]]


def is_prime(n):
    """True if n is prime (by trial division)."""
    if n < 2:
        return False
    return all(n % d for d in range(2, int(n ** 0.5) + 1))
