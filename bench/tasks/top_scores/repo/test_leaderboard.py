from leaderboard import top_scores


def test_best_first():
    scores = {"ann": 30, "bob": 75, "cy": 50, "dee": 10}
    assert top_scores(scores) == [("bob", 75), ("cy", 50), ("ann", 30)]


def test_n():
    assert top_scores({"a": 1, "b": 2}, n=1) == [("b", 2)]
