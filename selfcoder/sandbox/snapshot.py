"""Materialise a snapshot source into a fresh host directory (the sandbox workspace).

Sources:
  - a plain directory: copied (every `.git` inside is skipped);
  - a git repository, no commit: HEAD plus uncommitted and untracked-but-not-ignored changes,
    i.e. exactly what `git ls-files -co --exclude-standard` lists and still exists on disk;
  - a git repository at `commit`: the tree of that commit, blob bytes as stored (no filters,
    no attributes, nothing from the repository's config runs); a bare or mirror clone too;
  - a tarball (.tar, .tar.gz, .tgz, .tar.bz2, .tar.xz): unpacked (members escaping the root are
    refused); a single top-level directory is unwrapped; the result is then one of the above.
The user's tree is only read, and only through hardened git (selfcoder/core/gitsafe.py): nothing
of the repository's config runs, nothing is fetched, and a `.git` that leads to another
repository is refused. Symlinks are copied as symlinks, never followed; special files
(fifos, sockets, devices) are skipped. `prepare_workspace` adds the baseline (see baseline.py).
"""

from __future__ import annotations

import os
import shutil
import stat
import tarfile
import threading
from pathlib import Path

from selfcoder.core.errors import SandboxError
from selfcoder.core.gitsafe import git, git_popen, is_bare_repo, is_git_repo
from selfcoder.core.repo_files import NEVER_COPIED, git_listing
from selfcoder.sandbox.baseline import Baseline

TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")


def prepare_workspace(source: Path, commit: str | None, root: Path, uid: int | None = None) -> tuple[Path, Baseline]:
    """Create `root/workspace` from `source` and record its baseline in `root/baseline.git`.
    Everything is handed to `uid` when we are root. Returns (workspace, baseline)."""
    workspace = Path(root) / "workspace"
    workspace.mkdir(parents=True)
    materialise(Path(source), workspace, commit)
    return workspace, Baseline.record(workspace, Path(root) / "baseline.git", uid)


def describe(source: Path, commit: str | None = None) -> str:
    """One line saying what a snapshot of `source` will hold (for logs and the CLI)."""
    source = Path(source)
    if source.is_file():
        return f"tarball {source}" + (f" at {commit}" if commit else "")
    if is_git_repo(source):
        return f"git repository {source} " + (f"at {commit}" if commit else "at HEAD + uncommitted changes")
    return f"directory {source}"


def materialise(source: Path, dest: Path, commit: str | None = None) -> None:
    """Fill the existing empty directory `dest` with the snapshot of `source`."""
    source = Path(source).expanduser()
    if not source.exists():
        raise SandboxError(f"snapshot source {source} does not exist")
    if source.is_dir():
        if is_git_repo(source):
            if commit:
                _export_commit(source, commit, dest)
            else:
                _copy_worktree(source, dest)
            return
        if commit and is_bare_repo(source):
            _export_commit(source, commit, dest)
            return
        if commit:
            raise SandboxError(f"a commit ({commit}) was given but {source} is not a git repository")
        _copy_dir(source, dest)
        return
    if source.is_file() and (source.name.endswith(TAR_SUFFIXES) or tarfile.is_tarfile(source)):
        staging = dest.parent / f".{dest.name}.unpack"
        try:
            _unpack(source, staging)
            entries = list(staging.iterdir())
            top = entries[0] if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink() else staging
            materialise(top, dest, commit)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return
    raise SandboxError(f"snapshot source {source} is not a directory, git repository or tarball (.tar, .tar.gz, .tgz)")


# -- copying -----------------------------------------------------------------------------------


def _safe_parent(dest: Path, rel: str) -> Path | None:
    """The directory under `dest` that will hold `rel`, created as needed; None if `rel` would
    leave `dest` (absolute, `..`, `.git`, or through a symlink we created)."""
    parts = rel.split("/")
    if rel.startswith("/") or any(p in ("", ".", "..", ".git") for p in parts):
        return None
    parent = dest
    for part in parts[:-1]:
        parent = parent / part
        if parent.is_symlink():
            return None
        if not parent.exists():
            parent.mkdir()
    return parent


def _copy_entry(src: Path, dest_path: Path) -> None:
    st = src.lstat()
    if stat.S_ISLNK(st.st_mode):
        os.symlink(os.readlink(src), dest_path)
    elif stat.S_ISREG(st.st_mode):
        shutil.copyfile(src, dest_path, follow_symlinks=False)
        os.chmod(dest_path, stat.S_IMODE(st.st_mode) & 0o777)
    elif stat.S_ISDIR(st.st_mode):
        dest_path.mkdir(exist_ok=True)
        _copy_dir(src, dest_path)
    # fifos, sockets, devices: skipped


def _copy_dir(src: Path, dest: Path) -> None:
    with os.scandir(src) as it:
        for entry in it:
            if entry.name in NEVER_COPIED:
                continue
            _copy_entry(Path(entry.path), dest / entry.name)


def _copy_worktree(repo: Path, dest: Path) -> None:
    for rel in git_listing(repo):
        src = repo / rel
        if not os.path.lexists(src):
            continue  # deleted in the working tree
        parent = _safe_parent(dest, rel)
        if parent is not None:
            _copy_entry(src, parent / rel.rsplit("/", 1)[-1])


def _export_commit(repo: Path, commit: str, dest: Path) -> None:
    res = git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{commit}^{{commit}}"], worktree=repo,
              check=False)
    if res.returncode != 0:
        raise SandboxError(f"commit {commit} not found in {repo}")
    sha = res.stdout.decode().strip()
    listing = git(["ls-tree", "-r", "-z", "--full-tree", sha], worktree=repo).stdout
    entries = []
    for raw in listing.split(b"\0"):
        if not raw:
            continue
        meta, _, path = raw.partition(b"\t")
        mode, kind, obj = meta.decode().split()
        entries.append((mode, kind, obj, os.fsdecode(path)))
    blobs = [e for e in entries if e[1] == "blob"]
    for _mode, kind, _obj, rel in entries:
        if kind == "commit":  # a submodule: an empty directory, as a plain checkout leaves it
            parent = _safe_parent(dest, rel)
            if parent is not None:
                (parent / rel.rsplit("/", 1)[-1]).mkdir(exist_ok=True)
    proc = git_popen(["cat-file", "--batch"], worktree=repo)  # raw bytes: no filter, no textconv

    def feed() -> None:
        try:
            for _, _, obj, _ in blobs:
                proc.stdin.write(obj.encode() + b"\n")
        finally:
            proc.stdin.close()

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        for mode, _, _obj, rel in blobs:
            header = proc.stdout.readline().split()
            if header[1:2] == [b"missing"]:
                raise SandboxError(f"{rel} at {commit} is missing from {repo} (a partial clone? nothing is fetched)")
            if len(header) != 3 or header[1] != b"blob":
                raise SandboxError(f"git cat-file: unexpected reply for {rel} in {repo}")
            data = proc.stdout.read(int(header[2]))
            proc.stdout.read(1)  # the newline after each object
            parent = _safe_parent(dest, rel)
            if parent is None:
                continue
            target = parent / rel.rsplit("/", 1)[-1]
            if mode == "120000":
                os.symlink(os.fsdecode(data), target)
            else:
                target.write_bytes(data)
                os.chmod(target, 0o755 if mode == "100755" else 0o644)
    finally:
        proc.stdout.close()
        feeder.join()
        proc.wait()


def _unpack(tarball: Path, staging: Path) -> None:
    staging.mkdir()
    try:
        with tarfile.open(tarball) as tar:
            members = tar.getmembers()
            for m in members:
                parts = m.name.split("/")
                if m.name.startswith("/") or ".." in parts:
                    raise SandboxError(f"tarball {tarball} has a member outside its root: {m.name}")
            if hasattr(tarfile, "data_filter"):
                tar.extractall(staging, members=members, filter="data")
            else:  # Python < 3.11.4: no filters; the name check above plus no links out
                for m in members:
                    if (m.issym() or m.islnk()) and (m.linkname.startswith("/") or ".." in m.linkname.split("/")):
                        raise SandboxError(f"tarball {tarball} has a link outside its root: {m.name}")
                tar.extractall(staging, members=members)
    except SandboxError:
        raise
    except (tarfile.TarError, OSError, EOFError) as e:
        raise SandboxError(f"cannot unpack tarball {tarball}: {e}") from None
