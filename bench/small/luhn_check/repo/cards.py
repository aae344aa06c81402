"""Card-number checks for the payment form."""


def digits_only(number):
    """`number` without spaces and dashes."""
    return number.replace(" ", "").replace("-", "")


def luhn_valid(number):
    """True if `number` passes the Luhn checksum.

    Spaces and dashes are ignored. Starting from the rightmost digit, every second digit
    is doubled, and 9 is subtracted from doubles above 9; the number is valid when the sum
    of all digits is a multiple of 10. Fewer than 2 digits, or any other character, is
    invalid (False, not an exception).
    """
    raise NotImplementedError
