from mappings import count_values, invert, only

TEAMS = {"ann": "red", "bob": "blue", "cid": "red"}


def test_invert():
    assert invert(TEAMS) == {"red": ["ann", "cid"], "blue": ["bob"]}


def test_invert_empty():
    assert invert({}) == {}


def test_only():
    assert only(TEAMS, ["cid", "zed", "ann"]) == {"ann": "red", "cid": "red"}


def test_count_values():
    assert count_values(TEAMS) == {"red": 2, "blue": 1}
