"""What a run's patch does to each file, as whole old and new texts — what an editor edit needs.

The patch is a git diff written by untrusted code: its paths are checked to stay inside the
folder and not to pass through a symlink there (selfcoder/core/patch_paths.py, the same check as
`solve --apply`), and it is applied (hardened `git apply`, a stand-in repository, see selfcoder/core/gitsafe.py)
to a private temporary copy of only the files it names, never to the user's tree. The editor
then receives the result as text edits and file operations, and the user's own client writes.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from selfcoder.core.errors import SelfcoderError
from selfcoder.core.gitsafe import apply_to_files
from selfcoder.core.patch_paths import FileChange, check_patch_paths, parse_changes, safe_rel  # noqa: F401 - used here and by callers


def _read_text(path: Path, rel: str) -> str:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise SelfcoderError(f"{rel}: cannot read: {e.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise SelfcoderError(f"{rel}: not UTF-8 text; an editor edit cannot carry it (use `selfcoder solve --apply`)") from None


def resolve_changes(folder: Path, patch: str) -> list[FileChange]:
    """Parse `patch` and fill in each file's old text (from `folder`) and new text (the patch
    applied to a private copy). SelfcoderError when it does not apply or holds binary changes."""
    changes = parse_changes(patch)
    check_patch_paths(folder, changes)
    binary = [c.path for c in changes if c.binary]
    if binary:
        raise SelfcoderError(f"the patch changes binary files ({', '.join(binary)}); an editor edit cannot "
                             "carry them (use `selfcoder solve --apply`)")
    with tempfile.TemporaryDirectory(prefix="selfcoder-lsp-apply-") as tmp:
        work = Path(tmp) / "work"
        work.mkdir()
        for change in changes:
            source = change.old_path or change.path
            if change.kind in ("create", "rename") and os.path.lexists(folder / change.path):
                # the editor's CreateFile/RenameFile would write through a dangling link
                raise SelfcoderError(f"{change.path}: already exists in the folder (the patch creates it)")
            if change.kind == "create":
                continue
            original = folder / source
            if original.is_symlink() or not original.is_file():
                raise SelfcoderError(f"{source}: not a regular file in the folder")
            change.old_text = _read_text(original, source)
            copy = work / source
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_bytes(change.old_text.encode("utf-8"))
        problem = apply_to_files(patch, work)
        if problem:
            raise SelfcoderError(f"the patch does not apply to the folder: {problem}")
        for change in changes:
            if change.kind != "delete":
                change.new_text = _read_text(work / change.path, change.path)
    return changes
