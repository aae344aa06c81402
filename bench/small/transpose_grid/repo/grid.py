"""Grid helpers for the spreadsheet view (grids are lists of equal-length rows)."""


def transpose(grid):
    """Rows become columns: a grid with r rows and c columns gives c rows of r values."""
    if not grid:
        return []
    rows, cols = len(grid), len(grid)
    return [[grid[r][c] for r in range(rows)] for c in range(cols)]


def column(grid, index):
    return [row[index] for row in grid]


def row_sums(grid):
    return [sum(row) for row in grid]


def column_sums(grid):
    return row_sums(transpose(grid))
