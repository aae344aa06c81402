"""A minimal editor side of `workspace/applyEdit` for the tests: applies a WorkspaceEdit to the
files on disk (what an editor does to its buffers, then saves), checking versions of open docs."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import types


def path_of(uri: str) -> Path:
    return Path(unquote(urlparse(uri).path))


def offset(text: str, pos: types.Position) -> int:
    lines = text.splitlines(keepends=True)
    if pos.line >= len(lines):
        return len(text)
    return sum(len(line) for line in lines[: pos.line]) + min(pos.character, len(lines[pos.line].rstrip("\r\n")))


def apply_text_edits(text: str, edits) -> str:
    spans = sorted(((offset(text, e.range.start), offset(text, e.range.end), e.new_text) for e in edits), reverse=True)
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def apply_workspace_edit(edit: types.WorkspaceEdit, open_versions: dict[str, int]) -> str | None:
    """Apply `edit` to disk; returns a failure reason, or None when applied."""
    if edit.document_changes:
        for change in edit.document_changes:
            if isinstance(change, types.TextDocumentEdit):
                uri, version = change.text_document.uri, change.text_document.version
                if version is not None and open_versions.get(uri) != version:
                    return f"version mismatch for {uri}"
                path = path_of(uri)
                path.write_text(apply_text_edits(path.read_text() if path.exists() else "", change.edits))
            elif isinstance(change, types.CreateFile):
                path_of(change.uri).parent.mkdir(parents=True, exist_ok=True)
                path_of(change.uri).touch()
            elif isinstance(change, types.RenameFile):
                path_of(change.old_uri).rename(path_of(change.new_uri))
            elif isinstance(change, types.DeleteFile):
                path_of(change.uri).unlink()
    for uri, edits in (edit.changes or {}).items():
        path = path_of(uri)
        path.write_text(apply_text_edits(path.read_text(), edits))
    return None
