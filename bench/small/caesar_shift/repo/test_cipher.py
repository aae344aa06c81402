from cipher import decrypt, encrypt


def test_middle_of_alphabet():
    assert encrypt("hello", 3) == "khoor"


def test_wraps_around():
    assert encrypt("xyz", 3) == "abc"
    assert encrypt("XYZ", 3) == "ABC"


def test_punctuation_unchanged():
    assert encrypt("a-b c!", 1) == "b-c d!"


def test_round_trip():
    assert decrypt(encrypt("Attack at Dawn, zebra!", 13), 13) == "Attack at Dawn, zebra!"
