"""Day names for the booking page."""
from datetime import date

DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def parse_iso(text):
    """date from 'YYYY-MM-DD'."""
    year, month, day = (int(part) for part in text.split("-"))
    return date(year, month, day)


def weekday_name(text):
    """English name of the weekday of the ISO date `text`."""
    return DAY_NAMES[parse_iso(text).isoweekday() % 7]


def is_weekend(text):
    return weekday_name(text) in ("Saturday", "Sunday")
