"""Parse durations like '1h30m' or '45s' from the job scheduler's config."""
import re

UNITS = {"s": 1, "m": 3600, "h": 3600, "d": 86400}


def parse_duration(text):
    """Seconds in a duration string made of <number><unit> parts (units s, m, h, d)."""
    parts = re.findall(r"(\d+)\s*([smhd])", text.strip().lower())
    if not parts:
        raise ValueError(f"not a duration: {text!r}")
    return sum(int(number) * UNITS[unit] for number, unit in parts)
