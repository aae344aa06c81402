"""Greedy word wrapping for the terminal report."""


def wrap(text, width):
    """Lines of at most `width` characters, breaking only between words.

    A word longer than `width` gets a line of its own.
    """
    lines = []
    current = ""
    for word in text.split():
        if not current:
            current = word
        elif len(current) + 1 + len(word) < width:
            current += " " + word
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def fill(text, width):
    """The wrapped lines joined with newlines."""
    return "\n".join(wrap(text, width))
