from datetime import date

from calendar_names import is_weekend, parse_iso, weekday_name


def test_parse():
    assert parse_iso("2024-03-15") == date(2024, 3, 15)


def test_names():
    assert weekday_name("2024-03-15") == "Friday"
    assert weekday_name("2024-03-18") == "Monday"
    assert weekday_name("2024-03-17") == "Sunday"


def test_weekend():
    assert is_weekend("2024-03-16")
    assert not is_weekend("2024-03-15")
