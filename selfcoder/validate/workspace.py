"""Applying a patch inside a sandbox, with SWE-bench's fallback chain, and resetting.

Chain: `git apply` (exact), `git apply --3way` (the patch was made against an older
version whose blobs the repository has), `patch --fuzz` (context drifted a little).
Each attempt starts from the same state: a failed `--3way` leaves conflict markers and
`patch` could apply some hunks only, so the workspace is reset between attempts.

`--3way` needs the blobs the patch was made against. The workspace's repository holds only
the snapshot, so for a git source we copy exactly those pre-image blobs (named by the patch's
`index` lines) from the source repository into it: nothing else of the history enters.

Reset works through git inside the workspace: `checkpoint()` commits the current tree
(initialising a repository when the snapshot has none) and `reset()` returns to it.
Validation sandboxes are throwaway, so these commits harm nothing.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from selfcoder.core.errors import SandboxError
from selfcoder.core.gitsafe import git, is_bare_repo, is_git_repo
from selfcoder.sandbox.base import WORKDIR, Sandbox

SCRATCH = ".selfcoder-validate"  # in the workspace, excluded from git: patch files, reports
GIT = (
    "git -c safe.directory=* -c core.hooksPath=/dev/null -c commit.gpgsign=false "
    "-c user.name=selfcoder -c user.email=selfcoder@localhost -c advice.detachedHead=false"
)
GIT_TIMEOUT_S = 300.0


def _patch_cmd(path: str) -> str:
    opts = f"--batch --forward --fuzz=5 -p1 --no-backup-if-mismatch -i {path}"
    # the dry run first: a real run that fails halfway leaves some hunks applied
    return f'out=$(patch --dry-run {opts} 2>&1) || {{ printf "%s\\n" "$out"; exit 1; }}; patch {opts}'


# (method name as reported in the verdict, shell command with {p} = the patch file)
APPLY_CHAIN: tuple[tuple[str, str], ...] = (
    ("git apply", GIT + " apply --verbose --whitespace=nowarn {p}"),
    ("git apply --3way", GIT + " apply --verbose --3way --whitespace=nowarn {p}"),
    ("patch --fuzz", "{patch}"),
)


class WorkspaceError(Exception):
    """A git step that should always work did not (the sandbox lacks git, disk full, ...)."""


@dataclass
class ApplyResult:
    method: str | None  # None: no method applied the patch
    log: str
    attempts: list[tuple[str, int, str]] = field(default_factory=list)  # (method, exit code, output)

    @property
    def ok(self) -> bool:
        return self.method is not None


def _git(sb: Sandbox, args: str, what: str) -> str:
    res = sb.run(f"{GIT} {args}", timeout=GIT_TIMEOUT_S)
    if not res.ok:
        raise WorkspaceError(f"{what} failed (exit {res.exit_code}): {res.output.strip()[-500:]}")
    return res.output


def checkpoint(sb: Sandbox, label: str) -> str:
    """Commit the workspace as it is (a repository is created if there is none); its id."""
    top = sb.run(f"{GIT} rev-parse --show-toplevel", timeout=GIT_TIMEOUT_S)
    if not top.ok or top.output.strip() != WORKDIR:
        _git(sb, "init -q", "git init")
    sb.run(f"mkdir -p .git/info && echo '/{SCRATCH}/' >> .git/info/exclude", timeout=GIT_TIMEOUT_S)
    _git(sb, "add -A", "git add")
    _git(sb, f"commit -q --allow-empty --no-verify -m {shlex.quote(label)}", "git commit")
    return _git(sb, "rev-parse HEAD", "git rev-parse").strip()


def reset(sb: Sandbox, rev: str) -> None:
    """Back to checkpoint `rev`: tracked files restored, untracked ones removed (ignored kept)."""
    _git(sb, f"reset -q --hard {rev}", "git reset")
    _git(sb, "clean -fdq", "git clean")


def write_patch(sb: Sandbox, name: str, patch: str) -> str:
    """The patch as a file in the scratch dir; its path for the tools."""
    text = patch if patch.endswith("\n") else patch + "\n"  # `git apply` needs the final newline
    path = f"{SCRATCH}/{name}"
    sb.write_file(path, text)
    return f"{WORKDIR}/{path}"


def apply_patch(sb: Sandbox, patch_path: str, base: str) -> ApplyResult:
    """Try the chain on the checkpoint `base`; the first method that applies wins."""
    result = ApplyResult(method=None, log="")
    for method, template in APPLY_CHAIN:
        cmd = template.format(p=shlex.quote(patch_path), patch=_patch_cmd(shlex.quote(patch_path)))
        res = sb.run(cmd, timeout=GIT_TIMEOUT_S)
        output = res.output.strip()
        result.attempts.append((method, res.exit_code, output))
        if res.ok:
            result.method, result.log = method, output
            return result
        reset(sb, base)
    result.log = "\n".join(f"{m} (exit {code}): {out[-1500:]}" for m, code, out in result.attempts)
    return result


_DIFF_FILE = re.compile(r"^(?:\+\+\+|---) (?:[ab]/)?(\S+)", re.MULTILINE)
_GIT_HEADER = re.compile(r"^diff --git a/(\S+) b/(\S+)", re.MULTILINE)


def patched_files(patch: str) -> list[str]:
    """Paths a unified diff touches (both sides of renames), without /dev/null."""
    paths: list[str] = []
    for a, b in _GIT_HEADER.findall(patch):
        paths += [a, b]
    paths += _DIFF_FILE.findall(patch)
    return [p for p in dict.fromkeys(paths) if p != "/dev/null"]


def restore_files(sb: Sandbox, base: str, paths: list[str]) -> None:
    """Files as they were at `base` (those absent there are deleted): undoes the model's
    edits to the test files before the test patch goes on, as SWE-bench does."""
    if not paths:
        return
    quoted = " ".join(shlex.quote(p) for p in paths)
    script = (
        f"for f in {quoted}; do "
        f'if {GIT} cat-file -e {base}:"$f" 2>/dev/null; then {GIT} checkout -q {base} -- "$f"; '
        f'else rm -f -- "$f"; fi; done'
    )
    res = sb.run(script, timeout=GIT_TIMEOUT_S)
    if not res.ok:
        raise WorkspaceError(f"restoring test files failed: {res.output.strip()[-500:]}")


_INDEX = re.compile(r"^index ([0-9a-f]{7,64})\.\.[0-9a-f]{7,64}", re.MULTILINE)


def preimage_blobs(source: Path, patch: str) -> list[bytes]:
    """The blobs a patch's `index` lines name as pre-images, read from the git repository
    `source` (host side, selfcoder/core/gitsafe.py: raw reads, nothing of its config runs)."""
    source = Path(source)
    if not (source.is_dir() and (is_git_repo(source) or is_bare_repo(source))):
        return []
    blobs = []
    for abbrev in dict.fromkeys(_INDEX.findall(patch)):
        if set(abbrev) == {"0"}:  # a new file
            continue
        try:  # hardened host git: a promisor remote in the source's config fetches nothing
            res = git(["cat-file", "blob", abbrev], worktree=source, check=False, timeout=60)
        except SandboxError:  # a .git that leads to another repository: no pre-images from it
            return []
        if res.returncode == 0:
            blobs.append(res.stdout)
    return blobs


def import_blobs(sb: Sandbox, blobs: list[bytes]) -> None:
    """Store `blobs` in the workspace repository's object database."""
    if not blobs:
        return
    paths = []
    for i, blob in enumerate(blobs):
        sb.write_file(f"{SCRATCH}/blob-{i}", blob)
        paths.append(shlex.quote(f"{SCRATCH}/blob-{i}"))
    _git(sb, "hash-object -w --no-filters " + " ".join(paths), "git hash-object")


def read_at(sb: Sandbox, rev: str, path: str) -> str | None:
    """The text of `path` at checkpoint `rev`, or None when it is not there."""
    res = sb.run(f"{GIT} show {shlex.quote(f'{rev}:{path}')}", timeout=GIT_TIMEOUT_S)
    return res.output if res.ok else None
