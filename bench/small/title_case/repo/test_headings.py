from headings import capitalise, title_case


def test_capitalise_keeps_the_rest():
    assert capitalise("iPhone") == "IPhone"
    assert capitalise("") == ""


def test_plain_words():
    assert title_case("war and peace") == "War and Peace"


def test_first_word_small():
    assert title_case("the lord of the rings") == "The Lord of the Rings"
    assert title_case("a tale of two cities") == "A Tale of Two Cities"


def test_last_word_small():
    assert title_case("what we are waiting for") == "What We Are Waiting For"


def test_extra_spaces_collapse():
    assert title_case("  gone   with the wind ") == "Gone With the Wind"
