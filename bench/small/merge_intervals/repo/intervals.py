"""Busy periods for the calendar, as (start, end) pairs of numbers with start <= end."""


def total_length(intervals):
    """Sum of end - start over the intervals (overlaps counted twice)."""
    return sum(end - start for start, end in intervals)


def merge_intervals(intervals):
    """Intervals that overlap or touch ((1, 3) and (3, 5)) merged into one.

    The input may be in any order and is not changed; the result is a new list of tuples
    sorted by start. An empty input gives [].
    """
    raise NotImplementedError
