"""Working-day arithmetic for delivery estimates."""
from datetime import timedelta


def is_weekend(day):
    """True for Saturday and Sunday."""
    return day.weekday() > 5


def business_days(start, end):
    """Working days (Monday to Friday) from `start` to `end`, both included; 0 if end < start."""
    count = 0
    day = start
    while day <= end:
        if not is_weekend(day):
            count += 1
        day += timedelta(days=1)
    return count


def next_business_day(day):
    """The first working day after `day`."""
    day += timedelta(days=1)
    while is_weekend(day):
        day += timedelta(days=1)
    return day
