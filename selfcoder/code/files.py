"""Which files of a repository the map covers: source and text files, not tooling droppings.

The list is `repo_files.worktree_files(tidy=True)`: in a git repository what git lists
(tracked plus untracked-not-ignored, through hardened git: nothing of the repository's
config runs), elsewhere a walk; either way without the one skip list's directories
(VCS folders, virtualenvs, node_modules, caches, build output).
Then: no file over `MAX_BYTES`, no binary file (a NUL byte in its first 8 KiB), no name
that is not UTF-8.
"""

from __future__ import annotations

from pathlib import Path

from selfcoder.core.repo_files import worktree_files

MAX_BYTES = 1_000_000
MAX_FILES = 20_000


def is_text_file(path: Path) -> bool:
    try:
        if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_BYTES:
            return False
        with path.open("rb") as f:
            return b"\0" not in f.read(8192)
    except OSError:
        return False


def _utf8(path: str) -> bool:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def list_files(root: Path) -> list[str]:
    """Repository-relative paths (with `/`), sorted, of the files the map may show."""
    root = Path(root)
    paths = worktree_files(root, tidy=True, limit=MAX_FILES)
    return sorted(p for p in paths[:MAX_FILES] if _utf8(p) and is_text_file(root / p))
