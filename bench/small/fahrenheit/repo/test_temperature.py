import pytest

from temperature import celsius_to_fahrenheit, describe, fahrenheit_to_celsius


def test_to_fahrenheit():
    assert celsius_to_fahrenheit(100) == 212
    assert celsius_to_fahrenheit(-40) == -40


def test_to_celsius():
    assert fahrenheit_to_celsius(212) == pytest.approx(100)
    assert fahrenheit_to_celsius(32) == pytest.approx(0)
    assert fahrenheit_to_celsius(-40) == pytest.approx(-40)


def test_round_trip():
    assert fahrenheit_to_celsius(celsius_to_fahrenheit(37)) == pytest.approx(37)


def test_describe():
    assert describe(-3) == "freezing"
    assert describe(30) == "hot"
