"""Query strings for the search links."""
from urllib.parse import quote_plus


def build_query(params):
    """'k=v&k2=v2' from a dict, URL-encoded, in key order; None values are left out,
    list values repeat the key."""
    parts = []
    for key in sorted(params):
        value = params[key]
        values = value if isinstance(value, list) else [value]
        for item in values:
            parts.append(f"{quote_plus(str(key))}={quote_plus(str(item))}")
    return "&".join(parts)


def with_query(url, params):
    """`url` with the query string of `params` appended (no '?' when it is empty)."""
    query = build_query(params)
    return f"{url}?{query}" if query else url
