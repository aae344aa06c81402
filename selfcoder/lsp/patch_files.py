"""What a run's patch does to each file, as whole old and new texts — what an editor edit needs.

The patch is a git diff written by untrusted code: its paths are checked to stay inside the
folder, and it is applied (hardened `git apply`, a stand-in repository, see selfcoder/gitsafe.py)
to a private temporary copy of only the files it names, never to the user's tree. The editor
then receives the result as text edits and file operations, and the user's own client writes.
"""

from __future__ import annotations

import ast
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from selfcoder.errors import SelfcoderError
from selfcoder.gitsafe import git, stand_in_repo_env


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
    binary = [c.path for c in changes if c.binary]
    if binary:
        raise SelfcoderError(f"the patch changes binary files ({', '.join(binary)}); an editor edit cannot "
                             "carry them (use `selfcoder solve --apply`)")
    with tempfile.TemporaryDirectory(prefix="selfcoder-lsp-apply-") as tmp:
        work = Path(tmp) / "work"
        work.mkdir()
        for change in changes:
            source = change.old_path or change.path
            if change.kind == "create":
                continue
            original = folder / source
            if original.is_symlink() or not original.is_file():
                raise SelfcoderError(f"{source}: not a regular file in the folder")
            change.old_text = _read_text(original, source)
            copy = work / source
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_bytes(change.old_text.encode("utf-8"))
        env = stand_in_repo_env(Path(tmp) / "git", work)
        data = patch.encode("utf-8", "surrogateescape")
        done = git(["apply", "--whitespace=nowarn", "-"], cwd=work, env=env, input=data, check=False)
        if done.returncode != 0:
            lines = done.stderr.decode(errors="replace").strip().splitlines() or [f"exit code {done.returncode}"]
            raise SelfcoderError(f"the patch does not apply to the folder: {lines[0]}")
        for change in changes:
            if change.kind != "delete":
                change.new_text = _read_text(work / change.path, change.path)
    return changes
