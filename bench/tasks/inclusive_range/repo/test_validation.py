import pytest

from validation import check_port, in_range


def test_inside():
    assert in_range(5, 1, 10)
    assert not in_range(11, 1, 10)


def test_bounds_are_allowed():
    assert in_range(1, 1, 10)
    assert in_range(10, 1, 10)
    assert check_port(65535) == 65535


def test_bad_port():
    with pytest.raises(ValueError):
        check_port(0)
