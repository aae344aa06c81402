import pytest

from matrices import identity, matmul, shape


def test_shape():
    assert shape([[1, 2, 3], [4, 5, 6]]) == (2, 3)
    with pytest.raises(ValueError):
        shape([[1], [2, 3]])


def test_square():
    assert matmul([[1, 2], [3, 4]], [[5, 6], [7, 8]]) == [[19, 22], [43, 50]]


def test_rectangular():
    assert matmul([[1, 2], [3, 4]], [[5], [6]]) == [[17], [39]]
    assert matmul([[1, 2, 3]], [[1], [1], [1]]) == [[6]]


def test_identity():
    m = [[2, -1], [0, 3]]
    assert matmul(m, identity(2)) == m


def test_shape_mismatch():
    with pytest.raises(ValueError):
        matmul([[1, 2]], [[1, 2]])
