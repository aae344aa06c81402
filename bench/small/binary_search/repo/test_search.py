from search import contains, find

IDS = [3, 8, 15, 23]


def test_first_and_middle():
    assert find(IDS, 3) == 0
    assert find(IDS, 8) == 1


def test_last():
    assert find(IDS, 23) == 3
    assert find([7], 7) == 0


def test_missing():
    assert find(IDS, 4) == -1
    assert find([], 4) == -1
    assert not contains(IDS, 100)
