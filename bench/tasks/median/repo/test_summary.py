from summary import median, value_range


def test_odd_length():
    assert median([3, 1, 2]) == 2


def test_even_length():
    assert median([4, 1, 3, 2]) == 2.5
    assert median([10, 20]) == 15


def test_range():
    assert value_range([5, 1, 9]) == 8
