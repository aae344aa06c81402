"""Dotted-path access into parsed JSON/YAML configuration."""


def get_path(data, path, default=None):
    """The value at dotted `path` ("a.b.c") in nested dicts, or `default` when any part is
    missing or a parent is not a dict."""
    current = data
    for part in path.split("."):
        if part not in current:
            return default
        current = current[part]
    return current


def has_path(data, path):
    marker = object()
    return get_path(data, path, marker) is not marker
