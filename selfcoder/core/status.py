"""One `RunStatus` for every part that reports how a run ended: the runner, solve, apply,
validation, the CLI, eval, evolve and the language server.

It is a `str` enum, so `result.json` and every JSON report keep plain strings
(`"resolved"`), and comparisons with strings read in from disk still work.
"""

from __future__ import annotations

from enum import Enum


class RunStatus(str, Enum):
    RESOLVED = "resolved"  # a patch, validated: FAIL_TO_PASS pass, PASS_TO_PASS still pass
    UNRESOLVED = "unresolved"  # a patch that the tests did not accept
    SUSPICIOUS = "suspicious"  # the patch reaches into the test run or its report: never accepted
    EMPTY_PATCH = "empty_patch"  # the agent changed nothing
    NOT_VALIDATED = "not_validated"  # a patch, validation switched off by the caller
    PATCH_FAILED = "patch_failed"  # the patch does not apply to the snapshot
    PATCH_TOO_LARGE = "patch_too_large"  # over the size / file-count cap
    TEST_CMD_FAILED = "test_cmd_failed"  # the test command could not run at all
    BUDGET_EXCEEDED = "budget_exceeded"  # tokens, cost or calls used up
    MODEL_ERROR = "model_error"  # the model could not be called (server crash, bad key, ...)
    CANCELLED = "cancelled"  # cancel token, Ctrl-C or SIGTERM
    ERROR = "error"  # anything else, with a message

    def __str__(self) -> str:
        return self.value

    @property
    def final_for_attempts(self) -> bool:
        """No further attempt can help: stop `solve --attempts N` here."""
        return self in (RunStatus.RESOLVED, RunStatus.BUDGET_EXCEEDED, RunStatus.CANCELLED, RunStatus.MODEL_ERROR)
