"""Ordinal numbers ('1st', '22nd') for the leaderboard."""

SUFFIXES = {1: "st", 2: "nd", 3: "rd"}


def suffix(n):
    """The English ordinal suffix of `n`: 'st', 'nd', 'rd' or 'th'.

    11, 12 and 13 (and 111, 212, ...) take 'th'.
    """
    return SUFFIXES.get(n % 10, "th")


def ordinal(n):
    """'1st', '22nd', '113th'."""
    return f"{n}{suffix(n)}"


def podium(names):
    """'1st: ann' lines for the first three names."""
    return [f"{ordinal(i)}: {name}" for i, name in enumerate(names[:3], start=1)]
