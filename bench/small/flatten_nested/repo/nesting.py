"""Flatten arbitrarily nested lists and tuples of tags or numbers."""


def is_nested(value):
    """True for containers that flatten() should open; strings and bytes stay whole."""
    try:
        iter(value)
    except TypeError:
        return False
    return True


def flatten(items):
    """All leaves of `items`, depth first, in order."""
    result = []
    for item in items:
        if is_nested(item):
            result.extend(flatten(item))
        else:
            result.append(item)
    return result


def depth(items):
    """1 for a flat list, 2 for a list holding a list, and so on."""
    inner = [depth(item) for item in items if is_nested(item)]
    return 1 + max(inner, default=0)
