from billing import format_cents, invoice_total, tax_cents


def test_exact_tax():
    assert tax_cents(1000, 750) == 75
    assert tax_cents(0, 750) == 0


def test_tax_rounds_half_up():
    assert tax_cents(999, 750) == 75
    assert tax_cents(10, 2500) == 3
    assert tax_cents(1, 4900) == 0


def test_invoice_total():
    assert invoice_total([(3, 333)], 750) == 999 + 75


def test_format_cents():
    assert format_cents(1234) == "12.34"
    assert format_cents(5) == "0.05"
