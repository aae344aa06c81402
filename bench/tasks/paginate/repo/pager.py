"""Split result lists into pages for the listing endpoints."""


def page_count(total, per_page):
    """How many pages `total` items fill."""
    return (total + per_page - 1) // per_page


def get_page(items, number, per_page=10):
    """The items on page `number`; pages are numbered from 1."""
    start = number * per_page
    return items[start:start + per_page]
