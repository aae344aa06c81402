"""Field-name conversion between Python models and the JSON API."""


def to_camel(name):
    """camelCase for a snake_case `name`: 'user_id' -> 'userId'.

    Leading underscores are kept as they are ('_private_key' -> '_privateKey'), runs of
    underscores between words count as one, and the first word keeps its case while later
    words get their first letter upper-cased.
    """
    raise NotImplementedError


def convert_keys(data):
    """A copy of the dict `data` with every key passed through to_camel."""
    return {to_camel(key): value for key, value in data.items()}
