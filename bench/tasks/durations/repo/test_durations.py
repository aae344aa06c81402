import pytest

from durations import parse_duration


def test_seconds_hours_days():
    assert parse_duration("45s") == 45
    assert parse_duration("2h") == 7200
    assert parse_duration("1d") == 86400


def test_minutes():
    assert parse_duration("1h30m") == 5400
    assert parse_duration("5m") == 300


def test_garbage():
    with pytest.raises(ValueError):
        parse_duration("soon")
