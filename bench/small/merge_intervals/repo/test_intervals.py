from intervals import merge_intervals, total_length


def test_total_length():
    assert total_length([(1, 3), (2, 6)]) == 6


def test_empty():
    assert merge_intervals([]) == []


def test_overlapping():
    assert merge_intervals([(1, 3), (2, 6), (8, 10)]) == [(1, 6), (8, 10)]


def test_unsorted_and_contained():
    assert merge_intervals([(8, 10), (1, 9), (2, 3)]) == [(1, 10)]


def test_touching_merge():
    assert merge_intervals([(3, 5), (1, 3)]) == [(1, 5)]


def test_input_unchanged():
    data = [(5, 6), (1, 2)]
    merge_intervals(data)
    assert data == [(5, 6), (1, 2)]
