"""Placeholder expansion in config values."""
import re

TOKEN = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand(template, env):
    """`template` with each ${NAME} replaced by env[NAME].

    A ${NAME} whose NAME is not in `env` is left unchanged, '$$' becomes a single '$', and
    any other '$' is kept as it is. Values are inserted as they are, never expanded again.
    """
    raise NotImplementedError


def names(template):
    """The placeholder names used in `template`, in order of first use."""
    found = [m.group(1) for m in TOKEN.finditer(template) if m.group(1)]
    return list(dict.fromkeys(found))
