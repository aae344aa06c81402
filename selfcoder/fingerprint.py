"""A fingerprint of a working tree (path → sha256), taken when a run starts.

`--apply` (CLI and editor) compares the tree against it and refuses to write when a file
changed since the snapshot, naming the files: the user's edits are never overwritten.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from selfcoder.errors import SandboxError
from selfcoder.sandbox.snapshot import is_git_repo, worktree_files

SKIP_DIRS = {".git", ".selfcoder", ".venv", "node_modules", "__pycache__"}


def _files(root: Path) -> list[str]:
    if is_git_repo(root):
        try:
            return sorted(worktree_files(root))
        except SandboxError:
            pass  # a broken repository: fall back to a walk
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        rel = Path(dirpath).relative_to(root)
        found.extend(str(rel / name) if str(rel) != "." else name for name in filenames)
    return sorted(found)


def _digest(path: Path) -> str | None:
    try:
        if path.is_symlink():
            return "link:" + os.readlink(path)
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except (FileNotFoundError, IsADirectoryError):
        return None


def fingerprint_tree(root: Path) -> dict[str, str | None]:
    """path → sha256 (None for a tracked file missing from the working tree)."""
    root = Path(root)
    if not root.is_dir():
        return {}
    return {rel: _digest(root / rel) for rel in _files(root)}


def changed_since(root: Path, before: dict[str, str | None]) -> list[str]:
    """Files whose content differs from the fingerprint, plus files that appeared since."""
    now = fingerprint_tree(root)
    return sorted(p for p in set(before) | set(now) if before.get(p) != now.get(p))
