"""Cycle lengths for the job scheduler: when do periodic jobs line up again?"""
from math import gcd


def lcm(a, b):
    """Least common multiple of two positive integers."""
    return a * b / gcd(a, b)


def lcm_all(periods):
    """Least common multiple of a non-empty list of positive integers."""
    result = 1
    for period in periods:
        result = lcm(result, period)
    return result


def next_alignment(periods, now):
    """The first time >= `now` at which all jobs (started at time 0) run together."""
    cycle = lcm_all(periods)
    return -(-now // cycle) * cycle
