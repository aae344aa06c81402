import pytest

from versions import bump, parse


def test_parse():
    assert parse("10.0.7") == (10, 0, 7)


def test_major_and_patch():
    assert bump("1.2.3", "major") == "2.0.0"
    assert bump("1.2.3", "patch") == "1.2.4"


def test_minor_resets_patch():
    assert bump("1.2.3", "minor") == "1.3.0"
    assert bump("0.9.0", "minor") == "0.10.0"


def test_unknown_part():
    with pytest.raises(ValueError):
        bump("1.0.0", "micro")
