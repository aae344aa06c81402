from rle import encode, ratio


def test_empty():
    assert encode("") == ""
    assert ratio("") == 1.0


def test_runs():
    assert encode("aaabcc") == "3a1b2c"
    assert encode("x") == "1x"


def test_long_run():
    assert encode("z" * 12) == "12z"


def test_ratio():
    assert ratio("aaaa") == 0.5
