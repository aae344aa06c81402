from stats import mean, spread


def test_mean():
    assert mean([1, 2, 3]) == 2
    assert mean([4]) == 4


def test_spread():
    assert spread([3, 9, 4]) == 6
