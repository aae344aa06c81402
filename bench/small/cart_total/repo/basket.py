"""Basket totals for the checkout page. Lines are dicts with 'sku', 'price' (cents) and
'quantity'; codes in DISCOUNTS take a percentage off the whole basket."""

DISCOUNTS = {"SPRING10": 10, "STAFF25": 25}


def line_total(line):
    return line["price"] * line.get("qty", 1)


def subtotal(lines):
    return sum(line_total(line) for line in lines)


def total(lines, code=None):
    """Subtotal minus the discount of `code` (case-insensitive), rounded down to a cent.
    An unknown code raises KeyError."""
    amount = subtotal(lines)
    if code is None:
        return amount
    percent = DISCOUNTS[code.upper()]
    return amount * (100 - percent) // 100
