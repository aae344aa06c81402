from records import make_record


def test_tags_do_not_leak_between_records():
    assert make_record("a")["tags"] == ["imported"]
    assert make_record("b")["tags"] == ["imported"]


def test_given_tags_are_kept_and_not_modified():
    mine = ["x"]
    assert make_record("c", mine)["tags"] == ["x", "imported"]
    assert mine == ["x"]
