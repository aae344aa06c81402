"""The paths a git diff touches, and the one check that they are safe to write in the user's folder.

A patch is written by untrusted code. Each path must be a plain relative path inside the folder,
outside its metadata (`.git`, `.selfcoder`), and no directory on its way there may be a symlink
or a non-directory: a link the user keeps in their folder (even git-ignored, say `docs -> /srv`)
would otherwise carry the write outside. `solve --apply` (worktree_apply.py) and the editor's
apply (lsp/patch_files.py) both call `check_patch_paths`, so both refuse the same patches.
"""

from __future__ import annotations

import ast
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from selfcoder.core.errors import SelfcoderError


@dataclass
class FileChange:
    path: str  # the path after the patch (for a deletion: the deleted path)
    kind: str = "modify"  # "modify" | "create" | "delete" | "rename"
    old_path: str | None = None  # for a rename
    binary: bool = False
    old_text: str | None = None  # None for a created file
    new_text: str | None = None  # None for a deleted file


def _unquote(name: str) -> str:
    """A path as git writes it: C-quoted ("a/x\\ty") when it holds special characters."""
    name = name.strip()
    if name.startswith('"') and name.endswith('"'):
        try:
            return ast.literal_eval("b" + name).decode("utf-8", "surrogateescape")
        except (ValueError, SyntaxError):
            raise SelfcoderError(f"the patch names a path git could not have written: {name}") from None
    return name


def _strip_prefix(name: str) -> str | None:
    name = _unquote(name)
    if name == "/dev/null":
        return None
    return name[2:] if name[:2] in ("a/", "b/") else name


def safe_rel(path: str) -> str:
    """`path` if it is a plain relative path inside the folder; SelfcoderError otherwise."""
    pure = PurePosixPath(path)
    if not path or pure.is_absolute() or ".." in pure.parts or pure.parts[:1] in ((".git",), (".selfcoder",)):
        raise SelfcoderError(f"the patch names a path outside the folder or in its metadata: {path!r}")
    return str(pure)


def parse_changes(patch: str) -> list[FileChange]:
    """The files a git diff touches, in order, with their kind (no contents yet)."""
    changes: list[FileChange] = []
    current: FileChange | None = None
    for line in patch.splitlines():
        if line.startswith("diff --git "):
            current = FileChange(path="")
            changes.append(current)
            rest = line[len("diff --git "):]
            if not rest.startswith('"') and " b/" in rest:  # unquoted: take b/... (may be refined below)
                current.path = rest.split(" b/", 1)[1]
        elif current is None:
            continue
        elif line.startswith("new file mode"):
            current.kind = "create"
        elif line.startswith("deleted file mode"):
            current.kind = "delete"
        elif line.startswith("rename from "):
            current.kind, current.old_path = "rename", _unquote(line[len("rename from "):])
        elif line.startswith("rename to "):
            current.path = _unquote(line[len("rename to "):])
        elif line.startswith("--- ") and current.kind == "delete":
            current.path = _strip_prefix(line[4:]) or current.path
        elif line.startswith("+++ "):
            current.path = _strip_prefix(line[4:]) or current.path
        elif line.startswith(("Binary files ", "GIT binary patch")):
            current.binary = True
    for change in changes:
        if not change.path:
            raise SelfcoderError("the patch has a file header without a path")
        change.path = safe_rel(change.path)
        if change.old_path is not None:
            change.old_path = safe_rel(change.old_path)
    return changes


def unsafe_reason(folder: Path, rel: str) -> str | None:
    """Why writing `folder/rel` could land outside `folder` (None: it cannot). Every directory
    between the folder and the file must be a real directory or not exist yet."""
    current = Path(folder)
    for part in PurePosixPath(rel).parts[:-1]:
        current = current / part
        try:
            mode = os.lstat(current).st_mode
        except FileNotFoundError:
            return None  # created by the write itself, as a real directory
        except OSError as e:
            return f"cannot check {current.relative_to(folder).as_posix()}: {e.strerror}"
        if stat.S_ISLNK(mode):
            return f"{current.relative_to(folder).as_posix()} is a symlink in your folder"
        if not stat.S_ISDIR(mode):
            return f"{current.relative_to(folder).as_posix()} is not a directory"
    return None


def check_patch_paths(folder: Path, changes: list[FileChange]) -> None:
    """SelfcoderError naming the first path of `changes` that `unsafe_reason` refuses."""
    for change in changes:
        for rel in filter(None, (change.old_path, change.path)):
            reason = unsafe_reason(folder, rel)
            if reason:
                raise SelfcoderError(f"the patch writes {rel}: {reason} (a write there could leave the folder)")
