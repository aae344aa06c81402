from autocomplete import Trie

WORDS = ["car", "card", "care", "cat", "dog", "do"]


def test_contains():
    trie = Trie(WORDS)
    assert "card" in trie
    assert "ca" not in trie


def test_complete_prefix():
    assert Trie(WORDS).complete("car") == ["car", "card", "care"]
    assert Trie(WORDS).complete("do") == ["do", "dog"]


def test_complete_nothing():
    assert Trie(WORDS).complete("x") == []
    assert Trie(WORDS).complete("cards") == []


def test_complete_everything():
    assert Trie(WORDS).complete("") == sorted(WORDS)


def test_duplicates_added_once():
    assert Trie(["ab", "ab", "a"]).complete("a") == ["a", "ab"]
