"""Policy `named_file_block` (config.json "policies"), used by reply_parser.py; the class says what it does and why."""


class Policy:
    """A sentence naming exactly one existing file ("Here is the fixed `calc.py`:") right before a
    SEARCH block or a code block tagged with a language names that block's file: small models
    rarely write the path alone on a line."""

    def __init__(self, enabled=True):
        self.enabled = enabled
