"""Smoothing for the sensor chart."""


def moving_average(values, window):
    """Mean of each run of `window` consecutive values, in order.

    Fewer values than `window` gives an empty list.
    """
    if window < 1:
        raise ValueError("window must be positive")
    averages = []
    for start in range(len(values) - window):
        chunk = values[start:start + window]
        averages.append(sum(chunk) / window)
    return averages


def smooth_enough(values, window, tolerance):
    """True if no two consecutive averages differ by more than `tolerance`."""
    avg = moving_average(values, window)
    return all(abs(a - b) <= tolerance for a, b in zip(avg, avg[1:]))
