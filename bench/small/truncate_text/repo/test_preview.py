from preview import preview, squash


def test_squash():
    assert squash("a\n  b\tc ") == "a b c"


def test_short_message_unchanged():
    assert preview("Hi there", 10) == "Hi there"
    assert preview("exactly10!", 10) == "exactly10!"


def test_long_message_fits_width():
    result = preview("Hello wonderful world", 10)
    assert result == "Hello w..."
    assert len(result) == 10


def test_default_width():
    assert len(preview("x" * 100)) == 40
