import pytest

from sizes import parse_size


def test_plain_numbers():
    assert parse_size("512") == 512
    assert parse_size("512B") == 512


def test_upper_case_units():
    assert parse_size("10MB") == 10 * 1024 ** 2


def test_units_ignore_case():
    assert parse_size("10mb") == 10 * 1024 ** 2
    assert parse_size("1.5 Gb") == int(1.5 * 1024 ** 3)
    assert parse_size("2kb") == 2048


def test_unknown_unit():
    with pytest.raises(ValueError):
        parse_size("3 parsecs")
