from wordfreq import count_words, most_common


def test_counts():
    assert count_words("the cat and The dog") == {"the": 2, "cat": 1, "and": 1, "dog": 1}


def test_most_common():
    assert most_common("b a b c b a") == "b"
    assert most_common("") is None
