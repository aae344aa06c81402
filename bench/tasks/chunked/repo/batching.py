"""Send items to the API in fixed-size batches."""


def chunked(items, size):
    """Consecutive slices of `items` with `size` elements (the last one may be shorter)."""
    if size < 1:
        raise ValueError("size must be at least 1")
    return [items[i:i + size] for i in range(0, len(items) - size + 1, size)]
