"""Small dense matrices as lists of rows, for the 2-D transform pipeline."""


def shape(matrix):
    """(rows, columns); ValueError if the rows have different lengths."""
    widths = {len(row) for row in matrix}
    if len(widths) > 1:
        raise ValueError("ragged matrix")
    return len(matrix), widths.pop() if widths else 0


def identity(n):
    return [[1 if i == j else 0 for j in range(n)] for i in range(n)]


def matmul(a, b):
    """The product a x b as a new list of rows.

    a is n x m and b is m x p; the result is n x p with entry [i][j] the sum over k of
    a[i][k] * b[k][j]. ValueError when a's column count differs from b's row count or
    either matrix is ragged.
    """
    raise NotImplementedError
