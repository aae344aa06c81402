"""Calendar-month arithmetic for subscription renewals."""
import calendar
from datetime import date


def add_months(day, months):
    """The date `months` calendar months after the date `day` (before it when negative).

    The day of the month is kept when possible and otherwise clamped to the last day of
    the target month: 31 January + 1 month is 28 or 29 February.
    """
    raise NotImplementedError


def renewals(start, count, every=1):
    """The first `count` renewal dates after `start`, every `every` months."""
    return [add_months(start, every * i) for i in range(1, count + 1)]
