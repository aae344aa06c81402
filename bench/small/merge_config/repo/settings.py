"""Per-user settings layered over the application defaults."""

DEFAULTS = {"theme": "light", "font_size": 12, "notifications": {"email": True, "sms": False}}


def merge(base, overrides):
    """A new dict: `base` with `overrides` applied; nested dicts are merged key by key.

    Neither argument is changed.
    """
    result = base
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = value
    return result
