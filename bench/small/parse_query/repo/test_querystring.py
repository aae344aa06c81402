from querystring import first, parse_query


def test_first():
    assert first({"a": ["1", "2"]}, "a") == "1"
    assert first({}, "a", "x") == "x"


def test_repeated_names():
    assert parse_query("tag=a&tag=b&q=red+shoes") == {"tag": ["a", "b"], "q": ["red shoes"]}


def test_question_mark_and_escapes():
    assert parse_query("?name=J%C3%BCrgen&x=1%262") == {"name": ["Jürgen"], "x": ["1&2"]}


def test_flags_and_empty_pairs():
    assert parse_query("debug&&a=") == {"debug": [""], "a": [""]}
    assert parse_query("") == {}
