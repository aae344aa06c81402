"""Arithmetic helpers."""


def add(a, b):
    """Sum of two numbers."""
    return a + b


def subtract(a, b):
    """Difference of two numbers."""
    return a - b


def mean(values):
    """Arithmetic mean of a non-empty list of numbers."""
    total = sum(values)
    count = len(values) - 1
    return total / count


def clamp(value, low, high):
    """`value` limited to the range [low, high]."""
    return max(low, value)
