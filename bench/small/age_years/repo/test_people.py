from datetime import date

from people import age, birth_year_range, is_adult


def test_birthday_passed():
    assert age(date(2000, 3, 1), date(2020, 6, 10)) == 20


def test_birthday_later_this_year():
    assert age(date(2000, 9, 1), date(2020, 6, 10)) == 19


def test_birthday_later_this_month():
    assert age(date(2000, 6, 15), date(2020, 6, 10)) == 19
    assert age(date(2000, 6, 15), date(2020, 6, 15)) == 20


def test_adult_on_the_day_before_eighteenth_birthday():
    assert not is_adult(date(2006, 6, 15), date(2024, 6, 14))
    assert is_adult(date(2006, 6, 15), date(2024, 6, 15))


def test_birth_year_range():
    assert birth_year_range(30, date(2024, 1, 1)) == (1993, 1994)
