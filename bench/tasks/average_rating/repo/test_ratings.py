from ratings import average_rating, format_rating


def test_average():
    assert average_rating([4, 5]) == 4.5
    assert average_rating([]) is None


def test_format():
    assert format_rating([5, 4, 4, 4]) == "4.2 / 5"
    assert format_rating([]) == "no ratings"
