from currency import format_money, group_thousands, statement_line


def test_group_thousands():
    assert group_thousands(1234567) == "1,234,567"


def test_positive():
    assert format_money(123456) == "$1,234.56"
    assert format_money(5) == "$0.05"
    assert format_money(0) == "$0.00"


def test_negative():
    assert format_money(-50) == "-$0.50"
    assert format_money(-123456) == "-$1,234.56"


def test_statement_line():
    assert statement_line("Coffee", 350, 15) == "Coffee    $3.50"
