"""A run's file changes as one `workspace/applyEdit` — shaped for what the client can do.

- `documentChanges` (versioned `TextDocumentEdit`s: an open buffer that changed meanwhile makes
  the client reject the whole edit) plus `CreateFile` / `RenameFile` / `DeleteFile` where the
  client announces `resourceOperations`;
- the plain `changes` map otherwise (text edits only: a patch that creates, renames or deletes
  files is refused, naming them, since such a client cannot do it);
- every edit annotated with `needsConfirmation` where the client supports change annotations
  (VS Code then shows its refactor preview before writing anything).

Edits are line-level hunks (difflib), so a review shows just what changed.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from lsprotocol import types

from selfcoder.core.errors import SelfcoderError
from selfcoder.lsp.patch_files import FileChange


def _units(text: str, encoding: str) -> int:
    if encoding == types.PositionEncodingKind.Utf8:
        return len(text.encode("utf-8"))
    if encoding == types.PositionEncodingKind.Utf32:
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def text_edits(old: str, new: str, encoding: str = types.PositionEncodingKind.Utf16) -> list[types.TextEdit]:
    """Line-level edits that turn `old` into `new`."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    last_line = len(a) - 1
    end_of_doc = types.Position(line=max(last_line, 0), character=_units(a[-1], encoding) if a else 0)

    def at(line: int) -> types.Position:
        if line <= last_line or (a and a[-1].endswith(("\n", "\r"))):
            return types.Position(line=line, character=0)
        return end_of_doc  # past a last line without a newline

    edits = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        edits.append(types.TextEdit(range=types.Range(start=at(i1), end=at(i2)), new_text="".join(b[j1:j2])))
    return edits


class EditCapabilities:
    """What the client's `workspace.workspaceEdit` capabilities allow."""

    def __init__(self, caps: types.ClientCapabilities | None):
        edit = caps.workspace.workspace_edit if caps and caps.workspace else None
        self.document_changes = bool(edit and edit.document_changes)
        ops = (edit.resource_operations or []) if edit else []
        self.resource_operations = {str(getattr(op, "value", op)) for op in ops} if self.document_changes else set()
        self.annotations = bool(edit and edit.change_annotation_support and self.document_changes)


def build_edit(folder: Path, changes: list[FileChange], caps: EditCapabilities, *, versions: dict[str, int],
               label: str, description: str, encoding: str = types.PositionEncodingKind.Utf16) -> types.WorkspaceEdit:
    """The WorkspaceEdit for `changes` in `folder`; `versions`: uri → version of open buffers."""
    def uri(rel: str) -> str:
        return (folder / rel).as_uri()

    needed = {"create": "create", "delete": "delete", "rename": "rename"}
    missing = [f"{c.path} ({c.kind})" for c in changes
               if c.kind in needed and needed[c.kind] not in caps.resource_operations]
    if missing:
        raise SelfcoderError(f"your editor cannot create, rename or delete files through LSP, and the patch does: "
                             f"{', '.join(missing)}; apply it with `selfcoder solve --apply` instead")
    if not caps.document_changes:
        return types.WorkspaceEdit(changes={uri(c.path): text_edits(c.old_text or "", c.new_text or "", encoding)
                                            for c in changes})
    annotation = "selfcoder" if caps.annotations else None

    def edit_of(rel: str, old: str, new: str, version: int | None) -> types.TextDocumentEdit:
        edits = text_edits(old, new, encoding)
        if annotation:
            edits = [types.AnnotatedTextEdit(range=e.range, new_text=e.new_text, annotation_id=annotation)
                     for e in edits]
        doc = types.OptionalVersionedTextDocumentIdentifier(uri=uri(rel), version=version)
        return types.TextDocumentEdit(text_document=doc, edits=edits)

    document_changes: list = []
    for c in changes:
        if c.kind == "create":
            document_changes.append(types.CreateFile(uri=uri(c.path), annotation_id=annotation,
                                                     options=types.CreateFileOptions(overwrite=False, ignore_if_exists=False)))
            document_changes.append(edit_of(c.path, "", c.new_text or "", None))
        elif c.kind == "delete":
            document_changes.append(types.DeleteFile(uri=uri(c.path), annotation_id=annotation))
        elif c.kind == "rename":
            old_uri = uri(c.old_path or c.path)
            document_changes.append(types.RenameFile(old_uri=old_uri, new_uri=uri(c.path), annotation_id=annotation,
                                                     options=types.RenameFileOptions(overwrite=False)))
            if c.old_text != c.new_text:
                document_changes.append(edit_of(c.path, c.old_text or "", c.new_text or "", None))
        else:
            document_changes.append(edit_of(c.path, c.old_text or "", c.new_text or "", versions.get(uri(c.path))))
    annotations = None
    if annotation:
        annotations = {annotation: types.ChangeAnnotation(label=label, needs_confirmation=True, description=description)}
    return types.WorkspaceEdit(document_changes=document_changes, change_annotations=annotations)
