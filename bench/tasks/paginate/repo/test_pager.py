from pager import get_page, page_count


def test_page_count():
    assert page_count(25, 10) == 3
    assert page_count(20, 10) == 2


def test_first_page():
    assert get_page(list(range(25)), 1) == list(range(10))


def test_last_page():
    assert get_page(list(range(25)), 3) == [20, 21, 22, 23, 24]
