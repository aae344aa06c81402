from ballots import tally, winner


def test_tally():
    assert tally(["a", "b", "a"]) == {"a": 2, "b": 1}


def test_clear_winner():
    assert winner(["tea", "coffee", "coffee"]) == "coffee"
    assert winner(["x"]) == "x"


def test_tie():
    assert winner(["tea", "coffee", "coffee", "tea"]) is None
    assert winner(["a", "b", "c", "c", "b"]) is None


def test_no_votes():
    assert winner([]) is None
