"""Roman numerals for chapter headings."""

NUMERALS = [
    (1000, "M"), (500, "D"),
    (100, "C"), (50, "L"),
    (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
]


def to_roman(number):
    """`number` (1 to 3999) as a Roman numeral."""
    if not 1 <= number <= 3999:
        raise ValueError(f"cannot write {number} in Roman numerals")
    parts = []
    for value, letters in NUMERALS:
        count, number = divmod(number, value)
        parts.append(letters * count)
    return "".join(parts)
