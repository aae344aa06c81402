"""Boolean values in the INI-style feature config."""

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


def parse_bool(text):
    """True or False for the usual words (any case, surrounding spaces ignored);
    ValueError for anything else, so typos are reported."""
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    return False


def parse_flags(lines):
    """{name: bool} from 'name = value' lines."""
    flags = {}
    for line in lines:
        name, value = line.split("=")
        flags[name.strip()] = parse_bool(value)
    return flags
