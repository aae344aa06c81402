from plurals import count_label, plural


def test_regular():
    assert plural("cat") == "cats"
    assert plural("box") == "boxes"
    assert plural("church") == "churches"


def test_consonant_y():
    assert plural("city") == "cities"


def test_vowel_y():
    assert plural("day") == "days"
    assert plural("key") == "keys"
    assert count_label(2, "toy") == "2 toys"


def test_count_label():
    assert count_label(1, "city") == "1 city"
