import pytest

from rpn import evaluate


def test_add_and_multiply():
    assert evaluate("3 4 + 2 *") == 14
    assert evaluate("1.5 2 *") == 3.0


def test_order_of_operands():
    assert evaluate("10 3 -") == 7
    assert evaluate("12 4 /") == 3.0
    assert evaluate("2 10 4 - *") == 12


def test_malformed():
    for bad in ("1 +", "1 2", ""):
        with pytest.raises(ValueError):
            evaluate(bad)
