"""Text normalisation for the product search."""
import unicodedata


def normalize(text):
    """`text` case-folded with accents removed ('Café' -> 'cafe'), so that queries typed
    without accents still match."""
    decomposed = unicodedata.normalize("NFC", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.casefold()


def matches(query, name):
    """True when every word of `query` occurs in `name`, ignoring case and accents."""
    haystack = normalize(name)
    return all(word in haystack for word in normalize(query).split())
