"""Short previews of chat messages for the notification list."""

ELLIPSIS = "..."


def squash(text):
    """Collapse runs of whitespace (newlines included) into single spaces."""
    return " ".join(text.split())


def preview(text, width=40):
    """`text` squashed to one line and cut to at most `width` characters.

    A cut preview ends with ELLIPSIS, which counts towards `width`.
    """
    line = squash(text)
    if len(line) <= width:
        return line
    return line[:width] + ELLIPSIS
