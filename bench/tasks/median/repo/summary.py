"""Summary statistics for the metrics dashboard."""


def median(values):
    """The median of a non-empty list of numbers."""
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def value_range(values):
    return max(values) - min(values)
