"""Headline capitalisation for article titles."""

SMALL_WORDS = {"a", "an", "and", "as", "at", "but", "by", "for", "in", "of", "on", "or", "the", "to"}


def capitalise(word):
    """The word with its first letter upper-cased and the rest left alone."""
    return word[:1].upper() + word[1:]


def title_case(text):
    """Capitalise every word except small words; the first and last words are always capitalised."""
    words = text.split()
    result = []
    for i, word in enumerate(words):
        lower = word.lower()
        if lower in SMALL_WORDS and i < len(words) - 1:
            result.append(lower)
        else:
            result.append(capitalise(word))
    return " ".join(result)
