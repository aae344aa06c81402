"""A fingerprint of a working tree (path → sha256), taken when a run starts.

`--apply` (CLI and editor) compares the tree against it and refuses to write when a file
changed since the snapshot, naming the files: the user's edits are never overwritten.
The files are those `repo_files.worktree_files` lists (in a git repository: what the snapshot
holds); a symlink counts by its target's name, a fifo or device by nothing (never opened).
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from selfcoder.core.repo_files import worktree_files


def _digest(path: Path) -> str | None:
    try:
        if path.is_symlink():
            return "link:" + os.readlink(path)
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:  # missing, a link swapped in meanwhile (ELOOP), unreadable: counts as absent
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):  # a directory (nested repository), fifo, device
        os.close(fd)
        return None
    with os.fdopen(fd, "rb") as f:
        h = hashlib.sha256()
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
        return h.hexdigest()


def fingerprint_tree(root: Path) -> dict[str, str | None]:
    """path → sha256 (None for a tracked file missing from the working tree)."""
    root = Path(root)
    if not root.is_dir():
        return {}
    return {rel: _digest(root / rel) for rel in sorted(worktree_files(root))}


def changed_since(root: Path, before: dict[str, str | None]) -> list[str]:
    """Files whose content differs from the fingerprint, plus files that appeared since."""
    now = fingerprint_tree(root)
    return sorted(p for p in set(before) | set(now) if before.get(p) != now.get(p))
