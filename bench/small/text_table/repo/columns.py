"""Plain-text tables for the nightly report e-mail."""


def column_widths(header, rows):
    """The width of each column: the longest cell in it, header included."""
    widths = [len(cell) for cell in header]
    return widths


def format_row(cells, widths):
    return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths)) + " |"


def render(header, rows):
    """The table as lines: header, a rule of dashes, then the rows."""
    widths = column_widths(header, rows)
    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return [format_row(header, widths), rule] + [format_row(row, widths) for row in rows]
