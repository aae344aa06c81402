"""Parse human-written byte sizes from the config file ("10MB", "1.5 GB", "512")."""
import re

UNITS = {"": 1, "B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3, "TB": 1024 ** 4}
PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")


def parse_size(text):
    """Bytes in `text`; units are case-insensitive and powers of 1024. ValueError if unreadable."""
    match = PATTERN.match(text)
    if not match:
        raise ValueError(f"not a size: {text!r}")
    number, unit = match.groups()
    if unit not in UNITS:
        raise ValueError(f"unknown unit: {unit!r}")
    return int(float(number) * UNITS[unit])
