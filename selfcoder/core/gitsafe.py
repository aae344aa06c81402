"""Every host git call selfcoder makes, hardened against the repository it reads.

A repository is untrusted (a tarball, a fresh clone, a workspace the agent wrote), and git runs
programs the repository's config names: a partial clone's promisor remote fetches a missing
object by running its `uploadpack` command (as root, on the host), `core.fsmonitor` and hooks
run commands, `.gitattributes` filters and textconv drivers run commands, `core.sshCommand`,
credential helpers and `core.gitProxy` run when a transport starts. So every call here:

  - starts from an empty environment plus what git needs: no system or global config, no
    `HOME`, no inherited `GIT_*` variable; `GIT_ALLOW_PROTOCOL=none` (no transport at all, the
    repository cannot re-allow one) and `GIT_NO_LAZY_FETCH=1` (git >= 2.44: no promisor fetch);
  - overrides every program-running key on the command line (`SAFE_CONFIG`, which outranks
    the repository's config); callers read blobs raw (`cat-file`), diff with `--no-ext-diff
    --no-textconv`, and add/apply only under `NEUTRAL_ATTRIBUTES` (no filter can run);
  - names the repository explicitly (`GIT_DIR`, `GIT_COMMON_DIR`, `GIT_WORK_TREE`,
    `GIT_CEILING_DIRECTORIES`): git never discovers a repository above the one we mean, and a
    `.git` file, `commondir` or `objects/info/alternates` that leads to another repository on
    the host is refused (`repo_env`) rather than followed.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Sequence

from selfcoder.core.errors import SandboxError

IDENTITY = {"name": "selfcoder", "email": "selfcoder@localhost"}
SAFE_CONFIG = {
    "core.hooksPath": os.devnull,
    "core.fsmonitor": "false",
    "core.untrackedCache": "false",
    "core.sshCommand": "false",
    "core.pager": "cat",
    "core.editor": "false",
    "core.askPass": "false",
    "core.autocrlf": "false",
    "core.symlinks": "true",
    "core.filemode": "true",
    "core.quotePath": "false",
    "core.excludesFile": os.devnull,
    "core.attributesFile": os.devnull,
    "credential.helper": "",
    "protocol.allow": "never",
    "fetch.recurseSubmodules": "false",
    "submodule.recurse": "false",
    "commit.gpgSign": "false",
    "tag.gpgSign": "false",
    "gc.auto": "0",
    "maintenance.auto": "false",
    "safe.directory": "*",
    "diff.noprefix": "false",
    "diff.mnemonicPrefix": "false",
    "advice.detachedHead": "false",
}
# Highest-precedence attributes ($GIT_DIR/info/attributes): the tree's eol/filter/diff settings
# do nothing, so bytes stay bytes and no filter driver can run.
NEUTRAL_ATTRIBUTES = "* !text !eol !filter !ident !working-tree-encoding !diff !merge !crlf\n"
MAX_ALTERNATES_DEPTH = 5  # git's own limit


def git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The whole environment of a host git call (nothing inherited but PATH, LANG, TZ)."""
    env = {k: os.environ[k] for k in ("PATH", "LANG", "TZ") if k in os.environ}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_ATTR_NOSYSTEM="1",
        HOME="/nonexistent",
        XDG_CONFIG_HOME="/nonexistent",
        GIT_ALLOW_PROTOCOL="none",
        GIT_NO_LAZY_FETCH="1",
        GIT_PROTOCOL_FROM_USER="0",
        GIT_NO_REPLACE_OBJECTS="1",
        GIT_OPTIONAL_LOCKS="0",  # reading never rewrites the user's index
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


def git_argv(args: Sequence[str]) -> list[str]:
    argv = ["git"]
    for key, value in SAFE_CONFIG.items():
        argv += ["-c", f"{key}={value}"]
    return argv + list(args)


def _prepare(worktree: Path | None, cwd: Path | None, env: dict[str, str] | None) -> tuple[Path, dict[str, str]]:
    extra = dict(repo_env(worktree)) if worktree is not None else {}
    extra.update(env or {})
    if "GIT_DIR" not in extra:  # a repository-less call (init, config --file): nothing to discover
        extra.setdefault("GIT_CEILING_DIRECTORIES", "/")
    return Path(cwd or worktree or "/"), git_env(extra)


def git(args: Sequence[str], *, worktree: Path | None = None, cwd: Path | None = None,
        env: dict[str, str] | None = None, input: bytes | None = None, uid: int | None = None,
        check: bool = True, timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run hardened host git; `worktree` names the repository (see `repo_env`), or `env` holds
    GIT_DIR/GIT_WORK_TREE. As root, `uid` runs git as that user. A failure is one SandboxError line."""
    cwd, full_env = _prepare(worktree, cwd, env)
    as_user = {}
    if uid is not None and os.geteuid() == 0:
        as_user = {"user": uid, "group": uid, "extra_groups": []}
    try:
        proc = subprocess.run(git_argv(args), cwd=cwd, env=full_env, input=input, capture_output=True,
                              stdin=None if input is not None else subprocess.DEVNULL, timeout=timeout, **as_user)
    except FileNotFoundError:
        raise SandboxError("git is not installed", hint="apt-get install -y git") from None
    except subprocess.TimeoutExpired:
        raise SandboxError(f"git {args[0] if args else ''} took over {timeout:.0f} s") from None
    if check and proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip().splitlines()
        detail = next((line for line in err if line.startswith(("fatal", "error"))), err[0] if err else "")
        raise SandboxError(f"git {args[0] if args else ''} failed: {detail or f'exit code {proc.returncode}'}")
    return proc


def git_popen(args: Sequence[str], *, worktree: Path) -> subprocess.Popen:
    """Hardened git as a pipe (for `cat-file --batch`); stdin and stdout are binary pipes."""
    cwd, full_env = _prepare(worktree, None, None)
    try:
        return subprocess.Popen(git_argv(args), cwd=cwd, env=full_env, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    except FileNotFoundError:
        raise SandboxError("git is not installed", hint="apt-get install -y git") from None


def is_git_repo(path: Path) -> bool:
    return (Path(path) / ".git").exists()


def is_bare_repo(path: Path) -> bool:
    """A bare (or mirror) clone: the git directory itself, no working tree. Read only at a named
    commit (snapshot.py); `repo_env` gives it no work tree."""
    path = Path(path)
    return (not (path / ".git").exists() and (path / "HEAD").is_file() and (path / "objects").is_dir()
            and (path / "refs").is_dir())


# -- which repository a working tree means ------------------------------------------------------


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _read_small(path: Path) -> str:
    with open(path, "rb") as f:
        return f.read(4096).decode(errors="replace")


def _links_back(git_dir: Path, dotgit: Path, root: Path) -> bool:
    """A git dir outside the tree is followed only when it names this tree as its own: a linked
    worktree's admin dir (`gitdir` file → our `.git`) or a submodule's (`core.worktree` → us)."""
    try:
        back = (git_dir / "gitdir").read_text().strip() if (git_dir / "gitdir").is_file() else ""
        if back and Path(back).resolve() == dotgit.resolve():
            return git_dir.parent.name == "worktrees"
        if (git_dir / "config").is_file():
            res = git(["config", "--file", str(git_dir / "config"), "--get", "core.worktree"], check=False)
            value = res.stdout.decode(errors="replace").strip()
            return bool(value) and (git_dir / value).resolve() == root
    except OSError:
        return False
    return False


def _check_alternates(objects: Path, allowed: list[Path], depth: int = 0) -> None:
    info = objects / "info" / "alternates"
    if depth > MAX_ALTERNATES_DEPTH or not info.is_file():
        return
    for line in _read_small(info).splitlines():
        line = line.strip().strip('"')
        if not line or line.startswith("#"):
            continue
        target = (objects / line).resolve()
        if not any(_inside(target, a) for a in allowed):
            raise SandboxError(f"{info} borrows objects from {target}, outside the repository: refusing to read it",
                               hint="make the repository self-contained: `git repack -a -d` and delete that file")
        _check_alternates(target, allowed, depth + 1)


def repo_env(worktree: Path) -> dict[str, str]:
    """GIT_DIR, GIT_COMMON_DIR, GIT_WORK_TREE and GIT_CEILING_DIRECTORIES for the working tree
    `worktree`, after checking that its `.git` leads to no other repository (SandboxError)."""
    worktree = Path(worktree).absolute()
    root = worktree.resolve()
    dotgit = worktree / ".git"
    trusted_outside = False
    if dotgit.is_file() and not dotgit.is_symlink():
        text = _read_small(dotgit).strip()
        if not text.startswith("gitdir:"):
            raise SandboxError(f"{dotgit} is neither a git directory nor a `gitdir:` file")
        git_dir = (worktree / text[len("gitdir:"):].strip()).resolve()
    elif dotgit.is_dir():
        git_dir = dotgit.resolve()
    elif is_bare_repo(worktree):  # the same checks, no work tree
        env = {"GIT_DIR": str(root), "GIT_COMMON_DIR": str(root), "GIT_CEILING_DIRECTORIES": str(worktree.parent)}
        if (root / "commondir").is_file():
            raise SandboxError(f"{root / 'commondir'}: a bare repository that borrows another's: refusing to read it")
        _check_alternates(root / "objects", [root])
        return env
    else:
        raise SandboxError(f"{worktree} is not a git repository")
    if not git_dir.is_dir():
        raise SandboxError(f"{dotgit} points to {git_dir}, which is not a git directory")
    if not _inside(git_dir, root):
        if not _links_back(git_dir, dotgit, root):
            raise SandboxError(f"{dotgit} points to {git_dir}, outside the repository: refusing to read "
                               "another repository")
        trusted_outside = True
    common = git_dir
    if (git_dir / "commondir").is_file():
        common = (git_dir / _read_small(git_dir / "commondir").strip()).resolve()
        standard = trusted_outside and git_dir.parent.parent == common
        if not (_inside(common, root) or standard):
            raise SandboxError(f"{git_dir / 'commondir'} points to {common}, outside the repository: refusing to "
                               "read another repository")
    allowed = [root, common] + ([git_dir] if trusted_outside else [])
    _check_alternates(common / "objects", allowed)
    return {"GIT_DIR": str(git_dir), "GIT_COMMON_DIR": str(common), "GIT_WORK_TREE": str(worktree),
            "GIT_CEILING_DIRECTORIES": str(worktree.parent)}


def stand_in_repo_env(git_dir: Path, worktree: Path) -> dict[str, str]:
    """Create an empty repository at `git_dir` to stand in for `worktree`'s own, for commands
    that need only the files (`git apply` to the user's tree): none of the tree's repository
    config applies, and `NEUTRAL_ATTRIBUTES` make the tree's `.gitattributes` inert."""
    git(["init", "-q", "--bare", str(git_dir)])
    (git_dir / "info").mkdir(exist_ok=True)
    (git_dir / "info" / "attributes").write_text(NEUTRAL_ATTRIBUTES)
    worktree = Path(worktree).absolute()
    return {"GIT_DIR": str(git_dir), "GIT_COMMON_DIR": str(git_dir), "GIT_WORK_TREE": str(worktree),
            "GIT_CEILING_DIRECTORIES": str(worktree.parent)}


def apply_to_files(patch: str, worktree: Path, *, check_only: bool = False) -> str | None:
    """`git apply` of `patch` to the files under `worktree` through a stand-in repository, so
    nothing of any repository's config, hooks or attributes runs; the patch goes on as raw bytes
    (`surrogateescape`, as the baseline diff wrote it). None when it applied (or would, with
    `check_only`), else git's first error line. The one hardened apply of `solve --apply`, the
    editor's review and evolve's children; the caller checks the patch's paths first (patch_paths)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="selfcoder-apply-") as tmp:
        env = stand_in_repo_env(Path(tmp) / "git", worktree)
        args = ["apply", "--whitespace=nowarn"] + (["--check"] if check_only else []) + ["-"]
        done = git(args, cwd=worktree, env=env, input=patch.encode("utf-8", "surrogateescape"), check=False)
    if done.returncode == 0:
        return None
    return (done.stderr.decode(errors="replace").strip().splitlines() or [f"git apply: exit code {done.returncode}"])[0]
