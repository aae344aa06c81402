"""Read Roman numerals from the old catalogue."""

VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def is_roman(text):
    """True if `text` is non-empty and uses only Roman numeral letters (any case)."""
    return bool(text) and all(ch in VALUES for ch in text.upper())


def from_roman(numeral):
    """The integer written by the Roman numeral `numeral`.

    Letters may be upper or lower case. A letter worth less than the one after it is
    subtracted ("IV" = 4, "XC" = 90), otherwise added ("VI" = 6). An empty string or any
    character other than I, V, X, L, C, D, M raises ValueError.
    """
    raise NotImplementedError
