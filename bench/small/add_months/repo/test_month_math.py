from datetime import date

from month_math import add_months, renewals


def test_same_day():
    assert add_months(date(2024, 1, 15), 1) == date(2024, 2, 15)
    assert add_months(date(2024, 1, 15), 0) == date(2024, 1, 15)


def test_across_year():
    assert add_months(date(2023, 11, 5), 3) == date(2024, 2, 5)
    assert add_months(date(2024, 1, 5), 24) == date(2026, 1, 5)


def test_clamped():
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2023, 1, 31), 1) == date(2023, 2, 28)


def test_backwards():
    assert add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)
    assert add_months(date(2024, 1, 10), -13) == date(2022, 12, 10)


def test_renewals():
    assert renewals(date(2024, 1, 31), 2) == [date(2024, 2, 29), date(2024, 3, 31)]
