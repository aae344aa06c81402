import pytest

from basket import subtotal, total

PEN = {"sku": "pen", "price": 150, "quantity": 4}
BOOK = {"sku": "book", "price": 1000, "quantity": 1}


def test_single_items():
    assert subtotal([BOOK]) == 1000


def test_quantities():
    assert subtotal([PEN]) == 600
    assert total([PEN, BOOK]) == 1600


def test_quantity_defaults_to_one():
    assert subtotal([{"sku": "mug", "price": 700}]) == 700


def test_discount_code():
    assert total([BOOK], "spring10") == 900
    with pytest.raises(KeyError):
        total([BOOK], "FREE")
