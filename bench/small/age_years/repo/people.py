"""Ages of people in the member directory; all arguments are datetime.date objects."""


def age(birth, today):
    """Whole years from `birth` to `today` (both dates)."""
    years = today.year - birth.year
    if today.month < birth.month:
        years -= 1
    return years


def is_adult(birth, today, adult_age=18):
    """True when the person is at least `adult_age` years old on `today`."""
    return age(birth, today) >= adult_age


def birth_year_range(age_years, today):
    """The earliest and latest possible birth years of someone `age_years` old on `today`."""
    return today.year - age_years - 1, today.year - age_years
