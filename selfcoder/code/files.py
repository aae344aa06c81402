"""Which files of a repository the map covers: source and text files, not tooling droppings.

In a git repository the list is `git ls-files -co --exclude-standard` (tracked plus
untracked-not-ignored), run with the repository's config neutralised (no fsmonitor command
can run). Elsewhere, a walk that skips VCS folders, virtualenvs, node_modules and caches.
Either way: no file over `MAX_BYTES`, no binary file (a NUL byte in its first 8 KiB).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

MAX_BYTES = 1_000_000
MAX_FILES = 20_000
SKIP_DIRS = {
    ".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".nox",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".eggs", "site-packages", ".selfcoder",
    ".idea", ".vscode", ".cache", ".hypothesis",
}
SKIP_TOP_DIRS = {"build", "dist", "target"}
SAFE_GIT = ["git", "-c", "core.fsmonitor=false", "-c", "safe.directory=*", "-c", "core.quotePath=false"]


def _skip_dir(rel_parts: tuple[str, ...], full: Path) -> bool:
    name = rel_parts[-1]
    if name in SKIP_DIRS or name.endswith(".egg-info"):
        return True
    if len(rel_parts) == 1 and name in SKIP_TOP_DIRS:
        return True
    return (full / "pyvenv.cfg").exists()  # a virtualenv under any name


def _git_files(root: Path) -> list[str] | None:
    if not (root / ".git").exists():
        return None
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_CONFIG_GLOBAL": os.devnull, "HOME": "/nonexistent"}
    try:
        res = subprocess.run([*SAFE_GIT, "ls-files", "-co", "--exclude-standard", "-z"], cwd=root, env=env,
                             capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if res.returncode != 0:
        return None
    paths = [p for p in res.stdout.decode("utf-8", "replace").split("\0") if p]
    skipped: dict[tuple[str, ...], bool] = {}

    def in_skipped_dir(path: str) -> bool:
        parts = tuple(path.split("/")[:-1])
        for i in range(1, len(parts) + 1):
            d = parts[:i]
            if d not in skipped:
                skipped[d] = _skip_dir(d, root.joinpath(*d))
            if skipped[d]:
                return True
        return False

    return [p for p in paths if not in_skipped_dir(p)]


def _walk_files(root: Path) -> list[str]:
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root).parts
        dirnames[:] = sorted(d for d in dirnames if not _skip_dir((*rel, d), Path(dirpath) / d))
        out.extend("/".join((*rel, f)) for f in sorted(filenames))
        if len(out) > MAX_FILES:
            break
    return out


def is_text_file(path: Path) -> bool:
    try:
        if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_BYTES:
            return False
        with path.open("rb") as f:
            return b"\0" not in f.read(8192)
    except OSError:
        return False


def list_files(root: Path) -> list[str]:
    """Repository-relative paths (with `/`), sorted, of the files the map may show."""
    root = Path(root)
    paths = _git_files(root)
    if paths is None:
        paths = _walk_files(root)
    return sorted(p for p in paths[:MAX_FILES] if is_text_file(root / p))
