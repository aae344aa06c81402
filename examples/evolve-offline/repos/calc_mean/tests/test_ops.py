import pytest

from calc import add, clamp, mean, subtract


def test_add():
    assert add(2, 3) == 5


def test_subtract():
    assert subtract(5, 3) == 2


@pytest.mark.parametrize("a,b,total", [(1, 2, 3), (-1, 1, 0)])
def test_add_many(a, b, total):
    assert add(a, b) == total


def test_mean_of_three():
    assert mean([1, 2, 3]) == 2


class TestClamp:
    def test_inside(self):
        assert clamp(5, 0, 10) == 5

    def test_outside(self):
        assert clamp(15, 0, 10) == 10
