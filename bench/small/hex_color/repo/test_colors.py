import pytest

from colors import parse_hex, to_hex


def test_long_form():
    assert parse_hex("#1e90ff") == (30, 144, 255)
    assert parse_hex("1E90FF") == (30, 144, 255)


def test_short_form():
    assert parse_hex("#fa0") == (255, 170, 0)
    assert parse_hex("000") == (0, 0, 0)


def test_invalid():
    with pytest.raises(ValueError):
        parse_hex("#12345")


def test_round_trip():
    assert to_hex(parse_hex("#FA0")) == "#ffaa00"
