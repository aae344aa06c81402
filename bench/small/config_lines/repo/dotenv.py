"""A minimal .env loader."""


def parse_line(line):
    """(name, value) for 'NAME=value', or None for blank lines and '#' comments.

    Surrounding spaces are stripped and matching surrounding quotes removed from the value.
    """
    line = line.strip()
    if not line or line.startswith("#"):
        return None
    name, value = line.split("=")
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return name.strip(), value


def load(text):
    """{name: value} for all lines of a .env file; later lines win."""
    pairs = (parse_line(line) for line in text.splitlines())
    return dict(pair for pair in pairs if pair)
