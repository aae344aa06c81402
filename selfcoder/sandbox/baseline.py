"""What the workspace looked like when the sandbox started, kept where the agent cannot reach it.

`Baseline.record(workspace, git_dir)` commits the freshly materialised workspace into a git
directory OUTSIDE the workspace (host side, never mounted into the sandbox), and gives the
workspace its own fresh `.git` with the same single commit, so the agent can use `git diff`.
`Baseline.diff()` stages the workspace into a private index and diffs it against the recorded
commit: the agent may rewrite or delete the workspace's `.git`, the patch stays trustworthy.

Host git runs hardened (selfcoder/core/gitsafe.py: no config that runs programs, no transport) with
the workspace's `.gitattributes` neutralised (no eol conversion or filters), so the patch holds
the bytes as they are and `git apply` accepts it on the original tree. A nested repository the
agent makes (`sub/.git`, which may name any repository on the host) is never read. When we are root, git
runs as the sandbox's uid: a symlink the agent swaps in while we read cannot expose root-only files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from selfcoder.core.errors import SandboxError
from selfcoder.core.gitsafe import NEUTRAL_ATTRIBUTES, git

# Tool droppings that must not end up in a patch (only affects untracked files).
JUNK = ["__pycache__/", "*.py[cod]", ".pytest_cache/", ".mypy_cache/", ".ruff_cache/", ".hypothesis/",
        ".coverage", ".coverage.*", "*.egg-info/", ".tox/", ".nox/"]
BASELINE_REF_FILE = "selfcoder-baseline"


def nested_repositories(root: Path) -> list[str]:
    """Directories below `root` (not `root` itself) holding a `.git` file or directory."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if rel != "." and ".git" in dirnames + filenames:
            found.append(rel.replace(os.sep, "/"))
            dirnames[:] = []
            continue
        dirnames[:] = [d for d in dirnames if d != ".git"]
    return found


def chown_tree(root: Path, uid: int) -> None:
    """chown without ever following a symlink (a planted link must not chown host files)."""
    os.lchown(root, uid, uid)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            os.lchown(os.path.join(dirpath, name), uid, uid)


class Baseline:
    """The recorded snapshot of one workspace, and the diff against it."""

    def __init__(self, workspace: Path, git_dir: Path, uid: int | None = None):
        self.workspace = Path(workspace).absolute()
        self.git_dir = Path(git_dir).absolute()
        self.uid = uid

    def _git(self, *args: str, index: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
        env = {"GIT_DIR": str(self.git_dir), "GIT_COMMON_DIR": str(self.git_dir), "GIT_WORK_TREE": str(self.workspace),
               "GIT_CEILING_DIRECTORIES": str(self.workspace.parent)}
        if index is not None:
            env["GIT_INDEX_FILE"] = str(index)
        return git(args, cwd=self.workspace, env=env, uid=self.uid, check=check)

    @property
    def commit(self) -> str:
        return (self.git_dir / BASELINE_REF_FILE).read_text().strip()

    @classmethod
    def record(cls, workspace: Path, git_dir: Path, uid: int | None = None) -> "Baseline":
        """Commit everything now in `workspace` (ignored files too) as the baseline; give the
        workspace its own `.git` with that commit; hand both trees to `uid` (when root)."""
        workspace, git_dir = Path(workspace).absolute(), Path(git_dir).absolute()
        if (workspace / ".git").exists():
            raise SandboxError(f"{workspace} already has a .git; materialise the snapshot without it")
        self = cls(workspace, git_dir, None)  # as ourselves until the trees are chowned
        git(["init", "-q", "--bare", "--initial-branch=main", str(git_dir)])
        info = git_dir / "info"
        info.mkdir(exist_ok=True)
        (info / "attributes").write_text(NEUTRAL_ATTRIBUTES)
        (info / "exclude").write_text("\n".join(JUNK) + "\n")
        self._git("add", "-A", "-f", ".")
        self._git("commit", "-q", "--allow-empty", "--no-verify", "-m", "selfcoder baseline")
        sha = self._git("rev-parse", "HEAD").stdout.decode().strip()
        (git_dir / BASELINE_REF_FILE).write_text(sha + "\n")
        shutil.copytree(git_dir, workspace / ".git", symlinks=True)
        (workspace / ".git" / BASELINE_REF_FILE).unlink()
        git(["config", "--file", str(workspace / ".git" / "config"), "core.bare", "false"])
        git(["config", "--file", str(workspace / ".git" / "config"), "user.name", "agent"])
        git(["config", "--file", str(workspace / ".git" / "config"), "user.email", "agent@sandbox"])
        shutil.copyfile(git_dir / "index", git_dir / "diff-index")
        if uid is not None and os.geteuid() == 0:
            chown_tree(workspace, uid)
            chown_tree(git_dir, uid)
        self.uid = uid
        return self

    def diff(self) -> str:
        """`git diff --binary` of the workspace now against the baseline (see module docstring)."""
        if not self.workspace.is_dir():
            raise SandboxError("the sandbox workspace is gone (diff() must be called before close())")
        index = self.git_dir / "diff-index"  # private, persistent: its stat cache keeps `add` fast
        # a nested repository (`sub/.git`, which may point anywhere on the host) is never read:
        # git would record its HEAD as a gitlink; its directory is left out of the patch instead
        nested = [f":(exclude,top,literal){rel}" for rel in nested_repositories(self.workspace)]
        self._git("add", "-A", "--", ".", *nested, index=index)
        out = self._git("diff", "--cached", "--binary", "--no-renames", "--no-ext-diff", "--no-textconv",
                        "--no-color", "--src-prefix=a/", "--dst-prefix=b/", self.commit, index=index)
        return out.stdout.decode("utf-8", errors="surrogateescape")
