"""What the workspace looked like when the sandbox started, kept where the agent cannot reach it.

`Baseline.record(workspace, git_dir)` commits the freshly materialised workspace into a git
directory OUTSIDE the workspace (host side, never mounted into the sandbox), and gives the
workspace its own fresh `.git` with the same single commit, so the agent can use `git diff`.
`Baseline.diff()` stages the workspace into a private index and diffs it against the recorded
commit: the agent may rewrite or delete the workspace's `.git`, the patch stays trustworthy.

Host git runs with a minimal configuration (no system/global config, no hooks, no fsmonitor) and
the workspace's `.gitattributes` neutralised (no eol conversion or filters), so the patch holds
the bytes as they are and `git apply` accepts it on the original tree. When we are root, git
runs as the sandbox's uid: a symlink the agent swaps in while we read cannot expose root-only files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Sequence

from selfcoder.errors import SandboxError

IDENTITY = {"name": "selfcoder", "email": "selfcoder@localhost"}
SAFE_CONFIG = {
    "core.hooksPath": os.devnull,
    "core.fsmonitor": "false",
    "core.autocrlf": "false",
    "core.symlinks": "true",
    "core.filemode": "true",
    "core.quotePath": "false",
    "core.untrackedCache": "false",
    "commit.gpgSign": "false",
    "safe.directory": "*",
    "diff.noprefix": "false",
    "diff.mnemonicPrefix": "false",
}
# Highest-precedence attributes: ignore the workspace's eol/filter/diff settings entirely.
NEUTRAL_ATTRIBUTES = "* !text !eol !filter !ident !working-tree-encoding !diff !merge !crlf\n"
# Tool droppings that must not end up in a patch (only affects untracked files).
JUNK = ["__pycache__/", "*.py[cod]", ".pytest_cache/", ".mypy_cache/", ".ruff_cache/", ".hypothesis/",
        ".coverage", ".coverage.*", "*.egg-info/", ".tox/", ".nox/"]
BASELINE_REF_FILE = "selfcoder-baseline"


def git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: os.environ[k] for k in ("PATH", "LANG", "TZ") if k in os.environ}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        HOME="/nonexistent",
        XDG_CONFIG_HOME="/nonexistent",
        GIT_TERMINAL_PROMPT="0",
        GIT_AUTHOR_NAME=IDENTITY["name"],
        GIT_AUTHOR_EMAIL=IDENTITY["email"],
        GIT_COMMITTER_NAME=IDENTITY["name"],
        GIT_COMMITTER_EMAIL=IDENTITY["email"],
        GIT_AUTHOR_DATE="2000-01-01T00:00:00Z",
        GIT_COMMITTER_DATE="2000-01-01T00:00:00Z",
    )
    env.update(extra or {})
    return env


def git(args: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
        input: bytes | None = None, uid: int | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Run host git with the safe configuration; a failure becomes one SandboxError line."""
    argv = ["git"]
    for key, value in SAFE_CONFIG.items():
        argv += ["-c", f"{key}={value}"]
    argv += list(args)
    as_user = {}
    if uid is not None and os.geteuid() == 0:
        as_user = {"user": uid, "group": uid, "extra_groups": []}
    try:
        proc = subprocess.run(argv, cwd=cwd, env=git_env(env), input=input, capture_output=True,
                              stdin=None if input is not None else subprocess.DEVNULL, **as_user)
    except FileNotFoundError:
        raise SandboxError("git is not installed", hint="apt-get install -y git") from None
    if check and proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip().splitlines()
        detail = next((line for line in err if line.startswith(("fatal", "error"))), err[0] if err else "")
        raise SandboxError(f"git {args[0] if args else ''} failed: {detail or f'exit code {proc.returncode}'}")
    return proc


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
        env = {"GIT_DIR": str(self.git_dir), "GIT_WORK_TREE": str(self.workspace)}
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
        self._git("add", "-A", ".", index=index)
        out = self._git("diff", "--cached", "--binary", "--no-renames", "--no-ext-diff", "--no-textconv",
                        "--no-color", "--src-prefix=a/", "--dst-prefix=b/", self.commit, index=index)
        return out.stdout.decode("utf-8", errors="surrogateescape")
