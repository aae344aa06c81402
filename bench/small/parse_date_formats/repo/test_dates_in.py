from datetime import date

import pytest

from dates_in import parse_date, to_iso


def test_to_iso():
    assert to_iso(date(2024, 3, 5)) == "2024-03-05"


def test_iso():
    assert parse_date("2024-03-05") == date(2024, 3, 5)


def test_day_first():
    assert parse_date("05/03/2024") == date(2024, 3, 5)
    assert parse_date(" 31/12/1999 ") == date(1999, 12, 31)


def test_month_name():
    assert parse_date("5 Mar 2024") == date(2024, 3, 5)
    assert parse_date("17 dec 2021") == date(2021, 12, 17)


def test_rejects_other_text():
    for bad in ("yesterday", "2024/03/05", "31/02/2024", ""):
        with pytest.raises(ValueError):
            parse_date(bad)
