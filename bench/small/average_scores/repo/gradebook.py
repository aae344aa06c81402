"""Quiz averages for the gradebook. Missing quizzes are None and do not count."""


def marked(scores):
    """The scores that are not None."""
    return [score for score in scores if score is not None]


def average(scores):
    """Mean of the marked scores, rounded to one decimal; None if there are none."""
    present = [score or 0 for score in scores]
    return round(sum(present) / len(present), 1)


def best(scores):
    present = marked(scores)
    return max(present) if present else None
