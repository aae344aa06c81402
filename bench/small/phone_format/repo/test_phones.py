import pytest

from phones import digits_of, format_phone


def test_digits_of():
    assert digits_of("(555) 12-3") == "555123"


def test_plain_number():
    assert format_phone("555-123-4567") == "(555) 123-4567"
    assert format_phone("5551234567") == "(555) 123-4567"


def test_country_code():
    assert format_phone("+1 (555) 123-4567") == "(555) 123-4567"
    assert format_phone("15551234567") == "(555) 123-4567"


def test_wrong_length():
    with pytest.raises(ValueError):
        format_phone("123")
    with pytest.raises(ValueError):
        format_phone("25551234567")
