"""Progress of a run in the editor: `window/workDoneProgress` when the client supports it.

The server creates the token (`selfcoder/<run id>`) with `cancellable: true`: begin with the
problem, a report per phase and per agent step, end with the verdict. A client's cancel of the
progress (`window/workDoneProgress/cancel`) cancels the run. A client without progress support
gets a `window/showMessage` when the run starts and when it ends instead.
"""

from __future__ import annotations

from lsprotocol import types

from selfcoder.core.safe_text import visible
from selfcoder.lsp.runs import RunRecord


def _short(text: str, limit: int = 80) -> str:
    shown = visible(text.replace("\n", " ").replace("\t", " "))
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


class RunProgress:
    """One run's progress; `report` and `end` are no-ops after the end."""

    def __init__(self, server, record: RunRecord, token: str | None):
        self.server, self.record, self.token, self.ended = server, record, token, False

    def report(self, message: str) -> None:
        if self.token and not self.ended:
            self.server.work_done_progress.report(self.token, types.WorkDoneProgressReport(
                message=_short(message, 120), cancellable=True))

    def end(self, message: str) -> None:
        if self.ended:
            return
        self.ended = True
        text = f"selfcoder run {self.record.run_id}: {message}"
        if self.token:
            self.server.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=_short(text, 300)))
        else:
            self.server.show(types.MessageType.Info, _short(text, 300))


class ProgressTable:
    """The progress of every run, and the mapping from progress tokens back to runs."""

    def __init__(self, server):
        self.server = server
        self._by_run: dict[str, RunProgress] = {}
        self._by_token: dict[str, RunRecord] = {}

    def supported(self) -> bool:
        caps = self.server.client_capabilities
        return bool(caps and caps.window and caps.window.work_done_progress)

    async def begin(self, record: RunRecord) -> RunProgress:
        token = None
        if self.supported():
            token = f"selfcoder/{record.run_id}"
            try:
                await self.server.work_done_progress.create_async(token)
            except Exception:  # noqa: BLE001 - a client that refuses the token gets messages instead
                token = None
        progress = RunProgress(self.server, record, token)
        self._by_run[record.run_id] = progress
        title = f"selfcoder: {_short(record.problem, 60)}"
        if token:
            record.progress_token = token
            self._by_token[token] = record
            self.server.work_done_progress.begin(token, types.WorkDoneProgressBegin(
                title=title, cancellable=True, message=f"run {record.run_id} starting"))
        else:
            self.server.show(types.MessageType.Info, f"{title} — run {record.run_id} started")
        return progress

    def of(self, record: RunRecord) -> RunProgress:
        return self._by_run.get(record.run_id) or RunProgress(self.server, record, None)

    def run_of_token(self, token) -> RunRecord | None:
        return self._by_token.get(token) if isinstance(token, str) else None
