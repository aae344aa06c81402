from versions import is_newer, parse_version


def test_parse():
    assert parse_version("1.10.2") == (1, 10, 2)


def test_simple():
    assert is_newer("1.2.0", "1.1.9")
    assert not is_newer("1.1.0", "1.1.0")


def test_two_digit_parts():
    assert is_newer("1.10.0", "1.9.2")
    assert not is_newer("1.9.2", "1.10.0")
