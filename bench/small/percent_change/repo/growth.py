"""Period-over-period growth for the revenue dashboard."""


def percent_change(old, new):
    """Change from `old` to `new` as a percentage of `old`, rounded to one decimal;
    None when `old` is 0 (growth from nothing is undefined)."""
    if old == 0:
        return None
    return round((new - old) / new * 100, 1)


def label(old, new):
    """'+25.0%', '-50.0%' or 'n/a'."""
    change = percent_change(old, new)
    if change is None:
        return "n/a"
    return f"{change:+.1f}%"
