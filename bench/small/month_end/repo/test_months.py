from datetime import date

from months import days_in_month, first_day, last_day


def test_ordinary_months():
    assert last_day(2023, 1) == date(2023, 1, 31)
    assert last_day(2023, 4) == date(2023, 4, 30)
    assert last_day(2023, 2) == date(2023, 2, 28)


def test_leap_february():
    assert last_day(2024, 2) == date(2024, 2, 29)
    assert days_in_month(2000, 2) == 29
    assert days_in_month(1900, 2) == 28


def test_first_day():
    assert first_day(2024, 7) == date(2024, 7, 1)
