import pytest

from smoothing import moving_average, smooth_enough


def test_every_window():
    assert moving_average([1, 2, 3, 4], 2) == [1.5, 2.5, 3.5]
    assert moving_average([5, 5, 5], 3) == [5.0]


def test_too_short():
    assert moving_average([1, 2], 3) == []


def test_bad_window():
    with pytest.raises(ValueError):
        moving_average([1], 0)


def test_smooth_enough():
    assert not smooth_enough([1, 1, 1, 9], 2, 1.0)
