"""Review and apply a finished run: show its diff, offer Apply / Show diff / Discard, and apply
through `workspace/applyEdit` — the user's own editor writes, never the server.

Before applying, the folder is compared with the run's snapshot (`snapshot.json`, sha256 per
file at the start of the run): a file changed on disk, or an open buffer whose text differs from
the snapshot (unsaved edits), makes the apply refuse, naming the files, so the user's edits are
never overwritten. The edit itself is versioned where the client allows it (see workspace_edit.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

from lsprotocol import types

from selfcoder.core.errors import SelfcoderError
from selfcoder.core.safe_text import visible
from selfcoder.lsp.runs import APPLIED, APPLYING, DISCARDED, FINISHED, RUNNING, RequestError, RunRecord, RunTable
from selfcoder.lsp.workspace_edit import EditCapabilities, build_edit
from selfcoder.validate.protected import REPRODUCTION_NOTE
from selfcoder.validate.reproduction import named

APPLY, SHOW_DIFF, DISCARD = "Apply", "Show diff", "Discard"
MAX_NAMED = 10


def _names(files: list[str]) -> str:
    shown = ", ".join(files[:MAX_NAMED])
    return shown + (f" and {len(files) - MAX_NAMED} more" if len(files) > MAX_NAMED else "")


def changed_files(server, record: RunRecord) -> list[str]:
    """Files of the folder that differ from the run's snapshot: on disk, or in an open buffer."""
    from selfcoder.core.fingerprint import changed_since

    snapshot_file = (record.run_dir or Path("/nonexistent")) / "snapshot.json"
    try:
        snapshot = json.loads(snapshot_file.read_text())
    except (OSError, ValueError):
        raise RequestError(f"run {record.run_id}: its snapshot ({snapshot_file}) is missing or unreadable: "
                           "cannot tell whether your files changed, not applying") from None
    changed = set(changed_since(record.folder, snapshot))
    for doc in list(server.workspace.text_documents.values()):
        path = Path(doc.path) if doc.path else None
        if path is None or not path.is_relative_to(record.folder):
            continue
        rel = path.relative_to(record.folder).as_posix()
        if rel in snapshot and hashlib.sha256(doc.source.encode("utf-8")).hexdigest() != snapshot[rel]:
            changed.add(rel)  # unsaved edits in the editor
    return sorted(changed)


def reproduction_note(record: RunRecord) -> str:
    """The agent's reproduction tests among the run's files, said beside its diff; '' when none."""
    tests = list(getattr(record.result, "reproduction_tests", None) or [])[:MAX_NAMED]
    seen = getattr(getattr(record.result, "verdict", None), "reproduction", None) or {}
    return f"; {REPRODUCTION_NOTE}: {visible(named(tests, seen))} (part of the diff: Apply adds it too)" if tests else ""


class Review:
    def __init__(self, server):
        self.server = server

    def _runs(self) -> RunTable:
        return self.server.runs

    async def offer(self, record: RunRecord) -> None:
        """After a run with a patch: Apply (validated only) / Show diff / Discard."""
        if not record.touched or not self.server.config.prompt_review:
            return
        actions = ([APPLY] if record.validated else []) + [SHOW_DIFF, DISCARD]
        message = f"selfcoder run {record.run_id}: {record.status} ({record.summary()})" + reproduction_note(record)
        for _ in range(3):  # after "Show diff", ask again
            try:
                choice = await self.server.window_show_message_request_async(types.ShowMessageRequestParams(
                    type=types.MessageType.Info, message=message,
                    actions=[types.MessageActionItem(title=a) for a in actions]))
            except Exception:  # noqa: BLE001 - a client that cannot ask still has the commands
                return
            title = choice.title if choice else None
            if record.state != FINISHED or title is None:
                return  # dismissed, or applied/discarded by a command meanwhile
            try:
                if title == APPLY:
                    await self.apply(record, None)
                elif title == DISCARD:
                    self.discard(record)
                elif title == SHOW_DIFF:
                    await self.show_diff(record)
                    continue
            except RequestError as e:
                self.server.show(types.MessageType.Error, f"selfcoder: {e.message}")
            return

    async def show_diff(self, record: RunRecord) -> dict:
        diff = (record.run_dir / "patch.diff") if record.run_dir else None
        if record.state == RUNNING or diff is None or not diff.is_file():
            raise RequestError(f"run {record.run_id} has no diff yet" if record.state == RUNNING
                               else f"run {record.run_id} has no diff")
        uri = diff.as_uri()
        caps = self.server.client_capabilities
        shown = False
        if caps and caps.window and caps.window.show_document and caps.window.show_document.support:
            result = await self.server.window_show_document_async(types.ShowDocumentParams(uri=uri, take_focus=True))
            shown = bool(result and result.success)
        return {"uri": uri, "shown": shown}

    async def apply(self, record: RunRecord, files: list[str] | None) -> dict:
        self._runs().require_finished(record, "apply")
        if not record.validated:
            raise RequestError(f"run {record.run_id} is '{record.status}', not validated: not applying")
        if not record.touched:
            raise RequestError(f"run {record.run_id} changed nothing: there is nothing to apply")
        unknown = [f for f in files or [] if f not in record.touched]
        if unknown:
            from selfcoder.lsp.runs import BadArguments
            raise BadArguments(f"selfcoder.apply: run {record.run_id} does not change {_names(unknown)} "
                               f"(it changes {_names(record.touched)})")
        record.state = APPLYING  # a second apply meanwhile is refused
        try:
            changed = await asyncio.to_thread(changed_files, self.server, record)
            if changed:
                raise RequestError(f"not applying run {record.run_id}: changed since the run's snapshot: "
                                   f"{_names(changed)}")
            edit = await asyncio.to_thread(self._edit, record, files)
            result = await self.server.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(
                edit=edit, label=f"selfcoder: apply run {record.run_id}"))
        except BaseException:
            record.state = FINISHED
            raise
        if not result.applied:
            record.state = FINISHED
            raise RequestError(f"the editor did not apply run {record.run_id}: "
                               f"{result.failure_reason or 'declined or failed'}")
        record.state = APPLIED
        record.applied_files = list(files or record.touched)
        self.server.diagnostics.clear(record.folder)
        return {"applied": True, "files": record.applied_files}

    def _edit(self, record: RunRecord, files: list[str] | None) -> types.WorkspaceEdit:
        from selfcoder.lsp.patch_files import resolve_changes

        try:
            changes = resolve_changes(record.folder, record.result.patch)
        except SelfcoderError as e:
            raise RequestError(f"not applying run {record.run_id}: {e}") from None
        if files:
            changes = [c for c in changes if c.path in files]
        versions = {uri: doc.version for uri, doc in list(self.server.workspace.text_documents.items())
                    if doc.version is not None}
        caps = EditCapabilities(self.server.client_capabilities)
        encoding = self.server.workspace.position_encoding or types.PositionEncodingKind.Utf16
        try:
            return build_edit(record.folder, changes, caps, versions=versions, encoding=encoding,
                              label=f"selfcoder run {record.run_id}",
                              description=f"{record.summary()}: {record.problem[:200]}")
        except SelfcoderError as e:
            raise RequestError(f"not applying run {record.run_id}: {e}") from None

    def discard(self, record: RunRecord) -> dict:
        if record.state in (APPLIED, APPLYING, DISCARDED):
            self._runs().require_finished(record, "discard")
        if record.state == RUNNING:
            record.token.cancel("discarded from the editor")
        record.state = DISCARDED
        self.server.diagnostics.clear(record.folder)
        return {"discarded": True}
