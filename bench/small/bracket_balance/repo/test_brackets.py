from brackets import first_unclosed, is_balanced


def test_balanced():
    assert is_balanced("f(a[0], {b: c})")
    assert is_balanced("")


def test_mismatched():
    assert not is_balanced("(]")
    assert not is_balanced(")(")


def test_unclosed():
    assert not is_balanced("(a[b]")
    assert not is_balanced("{{}")


def test_first_unclosed():
    assert first_unclosed("x(a[b]") == 1
    assert first_unclosed("()") is None
