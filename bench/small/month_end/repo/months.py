"""Month boundaries for monthly invoicing."""
import calendar
from datetime import date

DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def days_in_month(year, month):
    return DAYS_IN_MONTH[month - 1]


def last_day(year, month):
    """The last date of the month."""
    return date(year, month, days_in_month(year, month))


def first_day(year, month):
    return date(year, month, 1)
