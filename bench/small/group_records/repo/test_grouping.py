from grouping import group_by, totals

ROWS = [{"team": "red", "pts": 3}, {"team": "blue", "pts": 1}, {"team": "red", "pts": 2}]


def test_with_function():
    assert group_by(["apple", "avocado", "bean"], key=lambda w: w[0]) == {"a": ["apple", "avocado"], "b": ["bean"]}


def test_order_of_first_appearance():
    assert list(group_by([3, 1, 4, 1, 5, 9, 2, 6], key=lambda n: n % 3)) == [0, 1, 2]


def test_string_key():
    assert group_by(ROWS, "team") == {"red": [ROWS[0], ROWS[2]], "blue": [ROWS[1]]}


def test_iterator_and_empty():
    assert group_by(iter([]), key=len) == {}
    assert group_by(iter(["x", "yy", "z"]), key=len) == {1: ["x", "z"], 2: ["yy"]}


def test_totals():
    assert totals(ROWS, "team", "pts") == {"red": 5, "blue": 1}
