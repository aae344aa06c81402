from meetings import conflicts, is_free, overlaps


def test_overlaps():
    assert overlaps((9, 11), (10, 12))
    assert not overlaps((9, 10), (10, 11))


def test_in_order():
    assert conflicts([(9, 11), (10, 12), (13, 14)]) == [((9, 11), (10, 12))]


def test_out_of_order():
    assert conflicts([(10, 12), (13, 14), (9, 11)]) == [((9, 11), (10, 12))]
    assert conflicts([(15, 16), (8, 9)]) == []


def test_is_free():
    assert is_free([(9, 11)], 11, 12)
    assert not is_free([(9, 11)], 10, 12)
