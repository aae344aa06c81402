"""Query-string parsing for the tiny router."""
from urllib.parse import unquote_plus


def parse_query(query):
    """{name: [values in order]} from a query string such as 'a=1&b=2&a=3'.

    A leading '?' is ignored, names and values are URL-decoded ('+' is a space), a pair
    without '=' has the value '', and empty pairs ('a=1&&b=2') are skipped.
    """
    raise NotImplementedError


def first(params, name, default=None):
    """The first value of `name` in parsed params, or `default`."""
    values = params.get(name)
    return values[0] if values else default
