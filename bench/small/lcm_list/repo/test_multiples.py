from multiples import lcm, lcm_all, next_alignment


def test_small():
    assert lcm_all([4, 6]) == 12
    assert isinstance(lcm_all([4, 6]), int)
    assert lcm(7, 7) == 7


def test_large_numbers_exact():
    big = 2 ** 60 + 1
    assert lcm_all([big, 3]) == big * 3


def test_next_alignment():
    assert next_alignment([4, 6], 13) == 24
    assert next_alignment([4, 6], 24) == 24
