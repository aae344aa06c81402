"""Star ratings shown on product pages."""


def average_rating(stars):
    """Mean of the star ratings, or None when there are none."""
    if not stars:
        return None
    return sum(stars) // len(stars)


def format_rating(stars):
    avg = average_rating(stars)
    return "no ratings" if avg is None else f"{avg:.1f} / 5"
