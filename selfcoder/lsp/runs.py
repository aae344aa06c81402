"""The runs one language server knows: their state, and the ResponseErrors for bad requests.

A run's life: running → finished → applied | discarded (a running run may also be discarded,
which cancels it). Every command names a run by id; an unknown id, or a request that does not
fit the run's state (apply twice, apply after discard, cancel a finished run), is a
`RequestError` whose message says what is wrong; the server keeps serving.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException

from selfcoder.core.cancel import CancelToken

RUNNING, FINISHED, APPLYING, APPLIED, DISCARDED = "running", "finished", "applying", "applied", "discarded"


class RequestError(JsonRpcException):
    """A request the server cannot carry out (the client shows the message)."""

    CODE = types.LSPErrorCodes.RequestFailed.value


class BadArguments(JsonRpcException):
    """Malformed command arguments."""

    CODE = types.ErrorCodes.InvalidParams.value


@dataclass
class RunRecord:
    run_id: str
    folder: Path
    problem: str
    token: CancelToken = field(default_factory=CancelToken)
    state: str = RUNNING
    phase: str = "starting"
    steps: int = 0
    result: Any = None  # selfcoder.solve.runner.RunResult once finished
    error: str = ""  # an internal error of the runner, when it raised
    run_dir: Path | None = None
    progress_token: str | None = None
    touched: list[str] = field(default_factory=list)
    applied_files: list[str] = field(default_factory=list)
    task: Any = None  # the asyncio task that drives it
    thread: Any = None  # the thread the runner blocks in

    @property
    def status(self) -> str:
        if self.result is not None:
            return str(self.result.status)
        return "error" if self.error else ""

    @property
    def validated(self) -> bool:
        return self.result is not None and self.result.validated

    def summary(self) -> str:
        """One line for buttons and code actions: 'N files, tests ✓'."""
        n = len(self.touched)
        tests = "tests ✓" if self.validated else f"tests ✗ ({self.status})"
        return f"{n} file{'s' if n != 1 else ''}, {tests}"

    def to_json(self) -> dict:
        result = self.result
        return {
            "runId": self.run_id, "folderUri": self.folder.as_uri(), "state": self.state, "phase": self.phase,
            "status": self.status, "steps": self.steps, "problem": self.problem,
            "message": (result.message if result is not None else self.error),
            "runDir": str(self.run_dir) if self.run_dir else None, "touchedFiles": self.touched,
            "appliedFiles": self.applied_files,
            "reproductionTests": list(getattr(result, "reproduction_tests", None) or []),
            "diffUri": (self.run_dir / "patch.diff").as_uri() if self.run_dir and (self.run_dir / "patch.diff").exists() else None,
        }


class RunTable:
    """run id → RunRecord, with the checks every command makes."""

    def __init__(self) -> None:
        self._runs: dict[str, RunRecord] = {}

    def add(self, record: RunRecord) -> None:
        self._runs[record.run_id] = record

    def all(self) -> list[RunRecord]:
        return list(self._runs.values())

    def get(self, run_id: Any) -> RunRecord:
        if not isinstance(run_id, str) or not run_id:
            raise BadArguments("runId: expected a run id (a string), as `selfcoder.run` returned")
        record = self._runs.get(run_id)
        if record is None:
            raise RequestError(f"unknown run '{run_id}' (this server started no such run)")
        return record

    def running_in(self, folder: Path) -> RunRecord | None:
        return next((r for r in self._runs.values() if r.folder == folder and r.state == RUNNING), None)

    def latest_in(self, folder: Path) -> RunRecord | None:
        runs = [r for r in self._runs.values() if r.folder == folder]
        return runs[-1] if runs else None

    @staticmethod
    def require_finished(record: RunRecord, action: str) -> None:
        """RequestError unless `record` finished and was neither applied nor discarded."""
        why = {RUNNING: "is still running", APPLYING: "is being applied right now", APPLIED: "was already applied",
               DISCARDED: "was discarded"}.get(record.state)
        if why:
            raise RequestError(f"cannot {action} run {record.run_id}: it {why}")
