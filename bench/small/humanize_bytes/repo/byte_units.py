"""Readable file sizes for the downloads list."""

UNITS = ["KiB", "MiB", "GiB", "TiB"]


def humanize(size):
    """'512 B', '1.5 KiB', '3.0 MiB': bytes below 1024, otherwise the largest unit in
    which the value is at least 1, with one decimal."""
    if size <= 1024:
        return f"{size} B"
    value = float(size)
    unit = None
    for unit in UNITS:
        value /= 1024
        if value <= 1024:
            break
    return f"{value:.1f} {unit}"


def total(sizes):
    return humanize(sum(sizes))
