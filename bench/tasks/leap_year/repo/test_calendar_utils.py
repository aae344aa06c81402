from calendar_utils import days_in_year, is_leap_year


def test_leap_years():
    assert is_leap_year(2024)
    assert is_leap_year(2000)


def test_common_years():
    assert not is_leap_year(2023)
    assert not is_leap_year(1900)
    assert days_in_year(2023) == 365
