"""English plurals for dashboard labels ('3 cities', '1 day')."""

VOWELS = "aeiou"


def plural(word):
    """The plural of a regular English noun."""
    if word.endswith("y"):
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    return word + "s"


def count_label(n, word):
    """'1 day', '0 days', '2 days'."""
    return f"{n} {word if n == 1 else plural(word)}"
