"""Dates typed by users into the import form."""
from datetime import datetime

FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d %b %Y"]


def parse_date(text):
    """The date in `text`, written in one of FORMATS: ISO '2024-03-05', day-first
    '05/03/2024', or '5 Mar 2024' (English month abbreviation, any case).

    Surrounding whitespace is ignored. Anything else raises ValueError.
    """
    raise NotImplementedError


def to_iso(day):
    """'YYYY-MM-DD' for a date."""
    return day.isoformat()
