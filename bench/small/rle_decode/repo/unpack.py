"""Run-length encoded sprite rows ('3a1b' <-> 'aaab')."""
from itertools import groupby


def encode(text):
    """Each run of equal characters as its length followed by the character."""
    return "".join(f"{len(list(run))}{ch}" for ch, run in groupby(text))


def decode(encoded):
    """The text described by `encoded`: runs of a count (one or more digits) followed by a
    single character. '' decodes to ''. A missing count, a count of 0 or a trailing count
    without a character raises ValueError.
    """
    raise NotImplementedError
