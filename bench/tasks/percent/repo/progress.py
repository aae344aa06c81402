"""Progress reporting for long-running exports."""


def percent(done, total):
    """Share of work done, as a percentage rounded to one decimal."""
    return round(100 * done / total, 1)


def progress_line(done, total):
    return f"{done}/{total} ({percent(done, total)}%)"
