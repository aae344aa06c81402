"""Colour values from the theme file."""


def parse_hex(color):
    """(r, g, b) for '#rrggbb' or the CSS shorthand '#rgb' (each digit doubled); the '#'
    is optional and case does not matter. ValueError for anything else."""
    digits = color.lstrip("#")
    if len(digits) == 3:
        return tuple(int(ch, 16) for ch in digits)
    if len(digits) != 6:
        raise ValueError(f"not a colour: {color!r}")
    return tuple(int(digits[i:i + 2], 16) for i in (0, 2, 4))


def to_hex(rgb):
    return "#" + "".join(f"{value:02x}" for value in rgb)
