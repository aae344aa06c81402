from datetime import date

from workdays import business_days, is_weekend, next_business_day


def test_plain_week():
    assert business_days(date(2024, 3, 4), date(2024, 3, 8)) == 5


def test_weekend_in_between():
    assert business_days(date(2024, 3, 1), date(2024, 3, 4)) == 2
    assert business_days(date(2024, 3, 1), date(2024, 3, 31)) == 21


def test_saturday_is_weekend():
    assert is_weekend(date(2024, 3, 2))
    assert is_weekend(date(2024, 3, 3))
    assert not is_weekend(date(2024, 3, 1))


def test_next_business_day_after_friday():
    assert next_business_day(date(2024, 3, 1)) == date(2024, 3, 4)


def test_empty_range():
    assert business_days(date(2024, 3, 8), date(2024, 3, 4)) == 0
