"""Snapshots and the baseline diff on the host, without a sandbox: what gets copied, what is
refused, and that the diff stays faithful to the bytes (eol attributes, ignored-but-tracked
files, tool droppings, a rewritten .git)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from selfcoder.core.errors import SandboxError
from selfcoder.sandbox.snapshot import describe, materialise, prepare_workspace

from .conftest import git, tree_digest


def _tar(path: Path, members: dict[str, bytes | tuple[str, str]]) -> Path:
    """members: name -> file bytes, or ('sym'|'hard', target)."""
    with tarfile.open(path, "w") as tar:
        for name, value in members.items():
            info = tarfile.TarInfo(name)
            if isinstance(value, tuple):
                info.type = tarfile.SYMTYPE if value[0] == "sym" else tarfile.LNKTYPE
                info.linkname = value[1]
                tar.addfile(info)
            else:
                info.size = len(value)
                tar.addfile(info, io.BytesIO(value))
    return path


def test_directory_copy_keeps_links_and_modes_skips_git_and_fifos(tmp_path):
    src = tmp_path / "src"
    (src / "sub" / ".git").mkdir(parents=True)
    (src / "sub" / "a.sh").write_text("#!/bin/sh\n")
    (src / "sub" / "a.sh").chmod(0o755)
    os.symlink("/etc/passwd", src / "abs-link")
    os.mkfifo(src / "pipe")
    dest = tmp_path / "dest"
    dest.mkdir()
    materialise(src, dest)
    assert sorted(os.listdir(dest)) == ["abs-link", "sub"]
    assert os.readlink(dest / "abs-link") == "/etc/passwd"
    assert os.access(dest / "sub" / "a.sh", os.X_OK) and not (dest / "sub" / ".git").exists()


def test_directory_copy_leaves_out_selfcoders_own_runs(tmp_path):
    """Earlier attempts' trajectories must not reach the next agent (a non-git repo has no
    .gitignore to hide them)."""
    src = tmp_path / "src"
    (src / ".selfcoder" / "runs" / "r1").mkdir(parents=True)
    (src / ".selfcoder" / "runs" / "r1" / "trajectory.jsonl").write_text("{}\n")
    (src / "m.py").write_text("x = 1\n")
    dest = tmp_path / "dest"
    dest.mkdir()
    materialise(src, dest)
    assert sorted(os.listdir(dest)) == ["m.py"]


def test_git_worktree_snapshot_matches_what_git_would_commit(repo, tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    materialise(repo, dest)
    assert set(tree_digest(dest)) == {".gitignore", "README.md", "blob.bin", "link.py", "pkg/mod.py", "run.sh",
                                       "staged.txt", "untracked.txt"}
    assert "HEAD + uncommitted" in describe(repo)


def test_unknown_commit_and_commit_without_git_are_refused(repo, tmp_path):
    for source, commit, words in [(repo, "deadbeef", "not found"), (tmp_path / "plain", "HEAD", "not a git")]:
        source.mkdir(exist_ok=True)
        dest = tmp_path / f"dest-{commit}"
        dest.mkdir()
        with pytest.raises(SandboxError, match=words):
            materialise(source, dest, commit)


@pytest.mark.parametrize("members, words", [
    ({"../evil.txt": b"x"}, "outside its root"),
    ({"/etc/evil.txt": b"x"}, "outside its root"),
    ({"ok/link": ("sym", "/etc/passwd")}, "tarball"),
    ({"ok/link": ("sym", "../../outside")}, "tarball"),
])
def test_tarball_members_escaping_the_root_are_refused(tmp_path, members, words):
    tarball = _tar(tmp_path / "evil.tar", {"ok/file.txt": b"fine", **members})
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(SandboxError, match=words):
        materialise(tarball, dest)
    assert not (tmp_path / "evil.txt").exists()


def test_tarball_of_a_git_repository_and_a_flat_tarball(repo, tmp_path):
    tgz = tmp_path / "repo.tgz"
    with tarfile.open(tgz, "w:gz") as tar:
        tar.add(repo, arcname="repo")
    dest = tmp_path / "dest"
    dest.mkdir()
    materialise(tgz, dest)  # unwrapped, then treated as a git repository: ignored files left out
    assert (dest / "untracked.txt").exists() and not (dest / "debug.log").exists()
    flat = _tar(tmp_path / "flat.tar", {"a.txt": b"a", "b/c.txt": b"c"})
    dest2 = tmp_path / "dest2"
    dest2.mkdir()
    materialise(flat, dest2)
    assert sorted(tree_digest(dest2)) == ["a.txt", "b/c.txt"]


def test_baseline_diff_is_faithful(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    git(src, "init", "-q")
    (src / ".gitattributes").write_text("* text=auto eol=lf\n")
    (src / ".gitignore").write_text("*.cfg\n")
    (src / "dos.txt").write_bytes(b"one\r\ntwo\r\n")
    (src / "forced.cfg").write_text("tracked although ignored\n")
    git(src, "add", "-A")
    git(src, "add", "-f", "forced.cfg")
    git(src, "commit", "-qm", "x")
    ws, baseline = prepare_workspace(src, None, tmp_path / "sb")
    assert baseline.diff() == ""
    (ws / "dos.txt").write_bytes(b"one\r\nTWO\r\n")
    (ws / "forced.cfg").write_text("changed\n")
    (ws / "new.cfg").write_text("ignored new file\n")
    (ws / "__pycache__").mkdir()
    (ws / "__pycache__" / "m.cpython-311.pyc").write_bytes(b"\0junk")
    (ws / "pkg.egg-info").mkdir()
    (ws / "pkg.egg-info" / "PKG-INFO").write_text("junk\n")
    shutil.rmtree(ws / ".git")
    patch = baseline.diff()
    assert "forced.cfg" in patch and "new.cfg" not in patch
    assert "__pycache__" not in patch and "egg-info" not in patch
    assert "+TWO\r\n" in patch, "CRLF bytes must survive .gitattributes"
    copy = tmp_path / "copy"
    materialise(src, copy.mkdir() or copy)
    res = subprocess.run(["git", "apply", "-"], cwd=copy, input=patch.encode(), capture_output=True)
    assert res.returncode == 0, res.stderr
    assert (copy / "dos.txt").read_bytes() == b"one\r\nTWO\r\n"


def test_baseline_lives_outside_the_workspace(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "f.txt").write_text("f\n")
    ws, baseline = prepare_workspace(src, None, tmp_path / "sb")
    assert not str(baseline.git_dir).startswith(str(ws))
    assert (ws / ".git").is_dir()  # the agent's own repository, with one commit
    assert git(ws, "log", "--format=%s").strip() == "selfcoder baseline"
    assert git(ws, "status", "--porcelain") == ""
