"""Counting votes for the team polls."""
from collections import Counter


def tally(votes):
    """{option: number of votes}, options in order of their first vote."""
    return dict(Counter(votes))


def winner(votes):
    """The option with the most votes; None when there are no votes or the top count is
    shared by several options."""
    counts = Counter(votes).most_common()
    if not counts:
        return None
    return counts[0][0]
