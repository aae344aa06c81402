import pytest

from flags import parse_bool, parse_flags


def test_true_words():
    for word in ("yes", " TRUE ", "On", "1"):
        assert parse_bool(word) is True


def test_false_words():
    for word in ("no", "False", "OFF", "0"):
        assert parse_bool(word) is False


def test_typo_rejected():
    with pytest.raises(ValueError):
        parse_bool("ture")
    with pytest.raises(ValueError):
        parse_bool("")


def test_parse_flags():
    assert parse_flags(["a = yes", "b=off"]) == {"a": True, "b": False}
