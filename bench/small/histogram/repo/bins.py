"""Bucket latencies (in ms) for the dashboard histogram."""
import math


def bucket_of(value, width):
    """Lower edge of the half-open bucket [edge, edge + width) holding `value`."""
    return round(value / width) * width


def histogram(values, width):
    """{bucket lower edge: count}, edges sorted ascending."""
    counts = {}
    for value in values:
        edge = bucket_of(value, width)
        counts[edge] = counts.get(edge, 0) + 1
    return dict(sorted(counts.items()))


def busiest(values, width):
    """The lower edge of the fullest bucket (the lowest one on a tie); None for no values."""
    counts = histogram(values, width)
    if not counts:
        return None
    return max(counts, key=lambda edge: (counts[edge], -edge))
