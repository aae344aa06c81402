"""Fixtures shared by the sandbox suites.

`backend` (from tests/conftest.py) runs a test once per backend: `local` always, `docker` when
the engine answers and the image exists. `open_sb` opens sandboxes with small limits and closes
them at teardown; `repo` is a git repository with every kind of uncommitted change.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest

from selfcoder.sandbox import Limits, SandboxSpec, open_sandbox

SMALL = Limits(timeout_s=30, memory_mb=768, pids=128, cpu_s=60, file_size_mb=64, output_bytes=20_000)


def run_id() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def open_sb(backend):
    """open_sb(source, **spec_fields) -> Sandbox, closed after the test."""
    opened = []

    def make(source: Path, **fields):
        fields.setdefault("limits", SMALL)
        fields.setdefault("run_id", run_id())
        sb = open_sandbox(SandboxSpec(source=Path(source), **fields), backend)
        opened.append(sb)
        return sb

    yield make
    for sb in opened:
        sb.close()


def git(repo: Path, *args: str) -> str:
    env = dict(os.environ, GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1",
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path) -> Path:
    """A git repository with one older commit, then HEAD, then uncommitted work:
    modified tracked file, staged new file, untracked file, ignored file, deleted file."""
    r = tmp_path / "repo"
    r.mkdir()
    git(r, "init", "-q", "-b", "main")
    (r / "README.md").write_text("version one\n")
    git(r, "add", "-A")
    git(r, "commit", "-qm", "one")
    (r / "README.md").write_text("version two\n")
    (r / ".gitignore").write_text("*.log\nbuild/\n")
    (r / "pkg").mkdir()
    (r / "pkg" / "mod.py").write_text("def f():\n    return 1\n")
    (r / "gone.txt").write_text("will be deleted\n")
    (r / "blob.bin").write_bytes(bytes(range(256)) * 4)
    (r / "run.sh").write_text("#!/bin/sh\necho run\n")
    (r / "run.sh").chmod(0o755)
    os.symlink("pkg/mod.py", r / "link.py")
    git(r, "add", "-A")
    git(r, "commit", "-qm", "two")
    (r / "pkg" / "mod.py").write_text("def f():\n    return 2\n")  # modified, unstaged
    (r / "staged.txt").write_text("staged\n")
    git(r, "add", "staged.txt")
    (r / "untracked.txt").write_text("untracked\n")
    (r / "debug.log").write_text("ignored\n")
    (r / "build").mkdir()
    (r / "build" / "out.o").write_text("ignored\n")
    (r / "gone.txt").unlink()
    return r


def tree_digest(root: Path) -> dict[str, str]:
    """path -> 'link:<target>' | '<mode>:<sha256>' for every file under root, .git excluded."""
    import hashlib

    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = f"link:{os.readlink(p)}"
            else:
                out[rel] = f"{oct(p.stat().st_mode & 0o111)}:{hashlib.sha256(p.read_bytes()).hexdigest()}"
    return out


# The same listing, computed inside a sandbox (backend-agnostic view of its workspace).
DIGEST_SCRIPT = r"""
import hashlib, os, json
out = {}
for dirpath, dirnames, filenames in os.walk('.'):
    dirnames[:] = [d for d in dirnames if d != '.git']
    for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
        p = os.path.join(dirpath, name)
        rel = os.path.relpath(p, '.')
        if os.path.islink(p):
            out[rel] = 'link:' + os.readlink(p)
        else:
            out[rel] = oct(os.stat(p).st_mode & 0o111) + ':' + hashlib.sha256(open(p, 'rb').read()).hexdigest()
print(json.dumps(out))
"""


def sandbox_digest(sb) -> dict[str, str]:
    import json

    sb.write_file("/tmp/digest.py", DIGEST_SCRIPT)
    res = sb.run("python3 /tmp/digest.py")
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def assert_no_leftovers(backend: str, rid: str) -> None:
    """Nothing of the sandboxes labelled `rid` exists any more (directories, processes, containers)."""
    from selfcoder.sandbox import workdirs

    root = workdirs.sandboxes_root()
    dirs = [p for p in root.glob(f"{rid}-*")] if root.is_dir() else []
    assert dirs == [], f"sandbox directories left: {dirs}"
    procs = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if f"\0{rid}-".encode() in cmdline:
                procs.append((entry, cmdline[:100]))
    assert procs == [], f"processes left: {procs}"
    mounts = [m for m in workdirs.mounts_under(root) if f"/{rid}-" in m]
    assert mounts == [], f"workspace mounts left: {mounts}"
    groups = []
    for dirpath, dirnames, _ in os.walk("/sys/fs/cgroup"):
        if dirpath.count("/") > 7:
            dirnames[:] = []
        groups += [os.path.join(dirpath, d) for d in dirnames if d.startswith(f"selfcoder-{rid}-")]
    assert groups == [], f"cgroups left: {groups}"
    if backend == "docker":
        from selfcoder.sandbox.docker_client import docker_client

        found = docker_client().containers.list(all=True, filters={"label": f"selfcoder.run={rid}"})
        assert found == [], f"containers left: {[c.name for c in found]}"
