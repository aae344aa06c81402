import pytest

from roman_parse import from_roman, is_roman


def test_is_roman():
    assert is_roman("mcm")
    assert not is_roman("")
    assert not is_roman("XIIZ")


def test_additive():
    assert from_roman("III") == 3
    assert from_roman("VI") == 6
    assert from_roman("MDCLXVI") == 1666


def test_subtractive():
    assert from_roman("IV") == 4
    assert from_roman("XC") == 90
    assert from_roman("MCMXCIV") == 1994


def test_lower_case():
    assert from_roman("xiv") == 14


def test_invalid():
    with pytest.raises(ValueError):
        from_roman("")
    with pytest.raises(ValueError):
        from_roman("XIZ")
