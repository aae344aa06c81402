"""Double-booking checks for the meeting-room planner. Meetings are (start, end) hours."""


def overlaps(a, b):
    """True when meetings a and b share some time; back-to-back meetings do not."""
    return a[0] < b[1] and b[0] < a[1]


def conflicts(meetings):
    """Pairs of consecutive meetings (in start order) that overlap, earlier one first."""
    ordered = list(meetings)
    return [(a, b) for a, b in zip(ordered, ordered[1:]) if overlaps(a, b)]


def is_free(meetings, start, end):
    return not any(overlaps(m, (start, end)) for m in meetings)
