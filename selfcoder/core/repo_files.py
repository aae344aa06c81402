"""Which files of a working tree count: the one listing and the one skip list.

In a git repository, git decides: tracked plus untracked-not-ignored (`git ls-files -co
--exclude-standard`, through `gitsafe`, so nothing of the repository's config runs and no
other repository is read). Elsewhere there are no ignore rules to go by, so a walk skips
`SKIP_DIRS`: version control, selfcoder's own runs, virtualenvs, caches and build output.
Users: the snapshot (every file git lists), `--apply`'s fingerprint (the same set) and the
repository map (`tidy=True`: the skip list applies to git's list too, vendored junk is noise).
A nested repository (a `sub/.git` file or directory) is listed as the directory `sub`, and
its `.git` is never read or copied.
"""

from __future__ import annotations

import os
from pathlib import Path

from selfcoder.core.errors import SandboxError
from selfcoder.core.gitsafe import git, is_git_repo

NEVER_COPIED = frozenset({".git", ".selfcoder"})  # VCS data; selfcoder's own runs (trajectories)
SKIP_DIRS = NEVER_COPIED | {
    ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".nox",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".eggs", "site-packages",
    ".idea", ".vscode", ".cache", ".hypothesis",
}
SKIP_TOP_DIRS = frozenset({"build", "dist", "target"})
GIT_TIMEOUT_S = 60.0


def is_skipped_dir(rel_parts: tuple[str, ...], full: Path) -> bool:
    """Whether the directory `rel_parts` (relative to the root; `full` on disk) is skipped."""
    name = rel_parts[-1]
    if name in SKIP_DIRS or name.endswith(".egg-info"):
        return True
    if len(rel_parts) == 1 and name in SKIP_TOP_DIRS:
        return True
    return (full / "pyvenv.cfg").exists()  # a virtualenv under any name


def git_listing(repo: Path) -> list[str]:
    """What git lists in the working tree `repo` (some paths may be deleted on disk); SandboxError
    when git cannot read it or its `.git` leads to another repository."""
    out = git(["ls-files", "-z", "-c", "-o", "--exclude-standard"], worktree=Path(repo), timeout=GIT_TIMEOUT_S).stdout
    return list(dict.fromkeys(rel for rel in (os.fsdecode(raw).rstrip("/") for raw in out.split(b"\0")) if rel))


def walk_files(root: Path, limit: int | None = None) -> list[str]:
    """Files under `root` outside skipped directories, sorted per directory; stops past `limit`."""
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root).parts
        dirnames[:] = sorted(d for d in dirnames if not is_skipped_dir((*rel, d), Path(dirpath) / d))
        out.extend("/".join((*rel, f)) for f in sorted(filenames))
        if limit is not None and len(out) > limit:
            break
    return out


def _drop_skipped(root: Path, paths: list[str]) -> list[str]:
    skipped: dict[tuple[str, ...], bool] = {}

    def in_skipped_dir(path: str) -> bool:
        parts = tuple(path.split("/")[:-1])
        for i in range(1, len(parts) + 1):
            d = parts[:i]
            if d not in skipped:
                skipped[d] = is_skipped_dir(d, root.joinpath(*d))
            if skipped[d]:
                return True
        return False

    return [p for p in paths if not in_skipped_dir(p)]


def worktree_files(root: Path, *, tidy: bool = False, limit: int | None = None) -> list[str]:
    """Repository-relative paths (with `/`) of the files that count in `root` (module docstring).
    A git repository git cannot read (broken, or refused by `gitsafe`) is walked instead."""
    root = Path(root)
    if is_git_repo(root):
        try:
            paths = git_listing(root)
        except SandboxError:
            pass
        else:
            return _drop_skipped(root, paths) if tidy else paths
    return walk_files(root, limit)
