from page_ranges import compress, expand


def test_expand():
    assert expand("1-3,5") == [1, 2, 3, 5]


def test_runs():
    assert compress([1, 2, 3, 5, 7, 8]) == "1-3,5,7-8"


def test_single_pages():
    assert compress([4]) == "4"
    assert compress([1, 3, 5]) == "1,3,5"


def test_unsorted_with_duplicates():
    assert compress([8, 7, 7, 1, 2]) == "1-2,7-8"


def test_empty_and_round_trip():
    assert compress([]) == ""
    assert compress(expand("2-4,9,11-12")) == "2-4,9,11-12"
