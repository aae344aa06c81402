"""Date helpers used by the billing calendar."""


def is_leap_year(year):
    """True for years with a 29th of February (Gregorian rules)."""
    return year % 4 == 0 or year % 100 != 0 or year % 400 == 0


def days_in_year(year):
    return 366 if is_leap_year(year) else 365
