from anagrams import group_anagrams, is_anagram, signature


def test_lower_case_groups():
    assert group_anagrams(["tea", "eat", "tan", "ate", "nat"]) == [["tea", "eat", "ate"], ["tan", "nat"]]


def test_mixed_case():
    assert group_anagrams(["Listen", "silent", "enlist"]) == [["Listen", "silent", "enlist"]]


def test_signature_ignores_case():
    assert signature("Dog") == signature("god")


def test_is_anagram():
    assert is_anagram("Below", "elbow")
    assert not is_anagram("abc", "abc")
