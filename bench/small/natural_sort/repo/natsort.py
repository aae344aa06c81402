"""Natural ordering of file names for the file browser."""
import re

CHUNKS = re.compile(r"(\d+)")


def natural_key(name):
    """A sort key for `name` that orders runs of digits by their numeric value and the
    rest case-insensitively: 'file2' < 'File10' < 'file10b'.

    The key is a tuple alternating text and numbers, starting with text (possibly '').
    """
    raise NotImplementedError


def natural_sorted(names):
    return sorted(names, key=natural_key)
