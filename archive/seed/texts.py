"""Small text helpers shared by the loop (agent.py), the fast path (fast_path.py) and the policies."""


def fill(template, **values):
    """Put values into a template's {placeholders}; other braces stay as they are."""
    for key, value in values.items():
        template = template.replace("{%s}" % key, str(value))
    return template


def tail(text, max_chars):
    return text if len(text) <= max_chars else "[... earlier output omitted ...]\n" + text[-max_chars:]


def truncate(text, max_chars):
    """Keep the head and the tail of long text, with a marker saying how much was cut."""
    if len(text) <= max_chars:
        return text
    half = max_chars // 2
    return "%s\n[... %d characters omitted ...]\n%s" % (text[:half], len(text) - 2 * half, text[-half:])


def same_text(text):
    """`text` with all runs of whitespace made one space: how replies and commands are compared."""
    return " ".join(text.split())
