"""User-facing errors.

A `SelfcoderError` is a mistake the user can fix (bad config, bad input, missing
engine). The CLI prints its message as one line and exits with `exit_code`;
it never shows a traceback for these.
"""


class SelfcoderError(Exception):
    """An error whose message is meant for the user, on one line."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        msg = super().__str__()
        return f"{msg} ({self.hint})" if self.hint else msg


class ConfigError(SelfcoderError):
    """A setting has a value that is not allowed."""


class ModelError(SelfcoderError):
    """The model could not be called: unknown name, missing key, unreachable endpoint."""

    exit_code = 3


class BudgetExceeded(SelfcoderError):
    """A run used up its token, cost or call budget. The run status is `budget_exceeded`."""

    exit_code = 4


class SandboxError(SelfcoderError):
    """A sandbox could not be created or used (engine missing, bad snapshot, ...)."""

    exit_code = 5


class PatchTooLarge(SandboxError):
    """The agent's change is over the patch size or file-count cap. The run status is `patch_too_large`."""
