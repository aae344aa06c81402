import pytest

from batching import chunked


def test_even_split():
    assert chunked([1, 2, 3, 4], 2) == [[1, 2], [3, 4]]


def test_remainder_is_kept():
    assert chunked([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    assert chunked([1, 2], 5) == [[1, 2]]


def test_bad_size():
    with pytest.raises(ValueError):
        chunked([1], 0)
