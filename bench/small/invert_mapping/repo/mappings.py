"""Dictionary helpers for the team roster."""


def invert(mapping):
    """{value: [keys with that value, in insertion order]}."""
    inverted = {}
    for key, value in mapping.items():
        inverted[value] = [key]
    return inverted


def only(mapping, keys):
    """The items of `mapping` whose key is in `keys`, in mapping order."""
    wanted = set(keys)
    return {k: v for k, v in mapping.items() if k in wanted}


def count_values(mapping):
    """{value: number of keys with that value}."""
    return {value: len(keys) for value, keys in invert(mapping).items()}
