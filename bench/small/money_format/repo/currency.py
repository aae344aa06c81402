"""Display of amounts in cents for the account statement."""


def group_thousands(number):
    """'1,234,567' for 1234567 (non-negative integers)."""
    return f"{number:,}"


def format_money(cents):
    """'$1,234.56' for 123456 cents; negative amounts get a leading minus: '-$0.50'."""
    dollars, rest = divmod(cents, 100)
    return f"${group_thousands(dollars)}.{rest:02d}"


def statement_line(label, cents, width=30):
    """`label` and the formatted amount, padded to `width` characters."""
    amount = format_money(cents)
    return label + " " * max(1, width - len(label) - len(amount)) + amount
