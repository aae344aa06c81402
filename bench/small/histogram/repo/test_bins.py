from bins import bucket_of, busiest, histogram


def test_bucket_edges():
    assert bucket_of(10, 10) == 10
    assert bucket_of(17, 10) == 10
    assert bucket_of(19.9, 10) == 10
    assert bucket_of(-3, 10) == -10


def test_histogram():
    assert histogram([17], 10) == {10: 1}
    assert histogram([1, 2, 15, 16, 38], 10) == {0: 2, 10: 2, 30: 1}


def test_busiest_empty():
    assert busiest([], 10) is None


def test_busiest():
    assert busiest([11, 12, 31], 10) == 10
