"""Stock levels for the shop."""


class Inventory:
    def __init__(self):
        self._stock = {}

    def add(self, item, quantity):
        """Put `quantity` more of `item` in stock."""
        if quantity <= 0:
            raise ValueError("quantity must be positive")
        self._stock[item] = self._stock.get(item, 0) + quantity

    def remove(self, item, quantity):
        """Take `quantity` of `item` out of stock; ValueError if there is not enough."""
        available = self._stock.get(item, 0)
        if quantity >= available:
            raise ValueError(f"only {available} {item} left")
        self._stock[item] = available - quantity

    def count(self, item):
        return self._stock.get(item, 0)
