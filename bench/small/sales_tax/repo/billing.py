"""Tax and totals for invoices; all amounts are integer cents."""


def tax_cents(amount, rate_bp):
    """Tax on `amount` cents at `rate_bp` basis points (750 = 7.5 %), rounded half up to a cent."""
    return amount * rate_bp // 10000


def invoice_total(lines, rate_bp):
    """Total in cents of (quantity, unit_cents) lines plus tax on their sum."""
    subtotal = sum(quantity * unit for quantity, unit in lines)
    return subtotal + tax_cents(subtotal, rate_bp)


def format_cents(amount):
    """'12.34' for 1234."""
    return f"{amount // 100}.{amount % 100:02d}"
