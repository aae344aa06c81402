import pytest

from stock import Inventory


def make():
    inventory = Inventory()
    inventory.add("mug", 5)
    return inventory


def test_add_and_count():
    inventory = make()
    inventory.add("mug", 2)
    assert inventory.count("mug") == 7
    assert inventory.count("plate") == 0


def test_remove_some():
    inventory = make()
    inventory.remove("mug", 4)
    assert inventory.count("mug") == 1


def test_remove_all():
    inventory = make()
    inventory.remove("mug", 5)
    assert inventory.count("mug") == 0


def test_remove_too_many():
    inventory = make()
    with pytest.raises(ValueError):
        inventory.remove("mug", 6)
    assert inventory.count("mug") == 5
