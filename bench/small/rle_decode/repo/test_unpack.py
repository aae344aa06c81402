import pytest

from unpack import decode, encode


def test_encode():
    assert encode("aaab") == "3a1b"
    assert encode("") == ""


def test_empty():
    assert decode("") == ""


def test_single_digit_counts():
    assert decode("3a1b2c") == "aaabcc"
    assert decode("1 2-") == " --"


def test_multi_digit_count():
    assert decode("12x1y") == "x" * 12 + "y"


def test_round_trip():
    text = "zzzzzzzzzzzzz  ..q"
    assert decode(encode(text)) == text


def test_errors():
    for bad in ("a", "3a0b", "3a4"):
        with pytest.raises(ValueError):
            decode(bad)
