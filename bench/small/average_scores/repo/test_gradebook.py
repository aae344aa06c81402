from gradebook import average, best, marked


def test_marked():
    assert marked([1, None, 0]) == [1, 0]


def test_all_present():
    assert average([80, 90, 100]) == 90.0
    assert average([0, 1, 1]) == 0.7


def test_missing_left_out():
    assert average([80, None, 100]) == 90.0


def test_nothing_marked():
    assert average([None, None]) is None
    assert average([]) is None
    assert best([None]) is None
