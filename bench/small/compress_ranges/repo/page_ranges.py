"""Page selections for the print dialog."""


def expand(text):
    """[1, 2, 3, 5] from '1-3,5'."""
    pages = []
    for part in text.split(","):
        if "-" in part:
            first, last = part.split("-")
            pages.extend(range(int(first), int(last) + 1))
        elif part:
            pages.append(int(part))
    return pages


def compress(pages):
    """The shortest 'a-b,c,...' text for a collection of page numbers.

    Pages are sorted and duplicates dropped; runs of two or more consecutive pages become
    'first-last', single pages stay as they are. No pages gives ''.
    """
    raise NotImplementedError
