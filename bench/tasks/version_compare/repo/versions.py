"""Decide whether an update is available."""


def parse_version(text):
    """'1.10.2' -> (1, 10, 2)"""
    return tuple(int(part) for part in text.strip().split("."))


def is_newer(candidate, current):
    """True when version string `candidate` is newer than `current`."""
    return candidate.strip() > current.strip()
