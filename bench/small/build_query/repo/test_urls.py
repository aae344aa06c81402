from urls import build_query, with_query


def test_encoding():
    assert build_query({"q": "red shoes", "size": 9}) == "q=red+shoes&size=9"


def test_lists_repeat():
    assert build_query({"tag": ["a", "b&c"]}) == "tag=a&tag=b%26c"


def test_none_left_out():
    assert build_query({"q": "red shoes", "page": None}) == "q=red+shoes"


def test_with_query_empty():
    assert with_query("/s", {"page": None}) == "/s"
    assert with_query("/s", {}) == "/s"
