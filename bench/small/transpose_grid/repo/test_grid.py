from grid import column, column_sums, row_sums, transpose


def test_square():
    assert transpose([[1, 2], [3, 4]]) == [[1, 3], [2, 4]]


def test_wide_and_tall():
    assert transpose([[1, 2, 3], [4, 5, 6]]) == [[1, 4], [2, 5], [3, 6]]
    assert transpose([[1], [2], [3]]) == [[1, 2, 3]]


def test_empty():
    assert transpose([]) == []


def test_sums():
    assert row_sums([[1, 2, 3], [4, 5, 6]]) == [6, 15]
    assert column([[1, 2], [3, 4]], 1) == [2, 4]
    assert column_sums([[1, 2, 3], [4, 5, 6]]) == [5, 7, 9]
