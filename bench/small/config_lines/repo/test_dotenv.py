from dotenv import load, parse_line


def test_comments_and_blanks():
    assert parse_line("  # comment") is None
    assert parse_line("") is None


def test_quotes():
    assert parse_line("NAME = 'two words'") == ("NAME", "two words")


def test_values_with_equals():
    assert parse_line("TOKEN=abc==") == ("TOKEN", "abc==")
    assert parse_line("Q=a=b") == ("Q", "a=b")


def test_load():
    text = "A=1\n# x\nB = \"2\"\nA=3\n"
    assert load(text) == {"A": "3", "B": "2"}
