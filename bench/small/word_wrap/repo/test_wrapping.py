from wrapping import fill, wrap


def test_empty():
    assert wrap("", 10) == []


def test_line_exactly_width():
    assert wrap("the quick brown fox", 9) == ["the quick", "brown fox"]


def test_long_word_alone():
    assert wrap("a extraordinarily b", 5) == ["a", "extraordinarily", "b"]


def test_fill():
    assert fill("one two three four", 8) == "one two\nthree\nfour"
