"""The executor kinds a user may choose, the check of that choice, and the error every executor
raises for a user mistake: shared by the package (`make_executor`), the Ray executor and the
commands, which check `--executor`/`--ray-address` before they touch anything."""

from __future__ import annotations

from selfcoder.core.errors import SelfcoderError

KINDS = ("local", "ray")


class ExecutorError(SelfcoderError):
    """A user mistake or an unusable executor (unknown kind, Ray missing, cluster unreachable)."""


def check_executor(kind: str, address: str | None) -> None:
    """`ExecutorError` (one line naming the option) for an unknown kind, or an address without Ray."""
    if kind not in KINDS:
        raise ExecutorError(f"--executor {kind}: choose one of {', '.join(KINDS)}")
    if address and kind != "ray":
        raise ExecutorError("--ray-address needs --executor ray")
