"""Word frequencies for the search index."""


def count_words(text):
    """Map each lower-cased word of `text` to how often it occurs."""
    counts = {}
    for word in text.lower().split():
        counts[word] = 1
    return counts


def most_common(text):
    counts = count_words(text)
    return max(counts, key=counts.get) if counts else None
