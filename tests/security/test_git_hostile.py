"""Host git on hostile repositories (issue 8, finding 2): a repository's config must run nothing
on the host, and its `.git` must lead git to no other repository.

Every repository here is made with real git; each attack is one a tarball, a downloaded
directory or the agent (in its workspace) can plant.
"""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from selfcoder.core.worktree_apply import apply_run
from selfcoder.code.files import list_files
from selfcoder.core.errors import SandboxError
from selfcoder.core.fingerprint import fingerprint_tree
from selfcoder.core.repo_files import worktree_files
from selfcoder.sandbox.snapshot import materialise, prepare_workspace
from selfcoder.validate.workspace import preimage_blobs

ENV = dict(os.environ, GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_NAME="t",
           GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, env=ENV, check=True, capture_output=True, text=True).stdout.strip()


def make_repo(path: Path, files: dict[str, str]) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    for rel, text in files.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(text)
    git(path, "add", "-A")
    git(path, "commit", "-qm", "one")
    return path


def tar_dir(src: Path, tarball: Path) -> Path:
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(src, arcname=src.name)
    return tarball


@pytest.fixture
def partial_clone(tmp_path):
    marker = tmp_path / "PWNED"
    repo = make_repo(tmp_path / "repo", {"a.txt": "a\n", "b.txt": "b\n"})
    blob = git(repo, "rev-parse", "HEAD:b.txt")
    (repo / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    for key, value in [("core.repositoryformatversion", "1"), ("extensions.partialclone", "origin"),
                       ("remote.origin.url", str(tmp_path / "nowhere")), ("remote.origin.promisor", "true"),
                       ("remote.origin.uploadpack", f"touch {marker}; false")]:
        git(repo, "config", key, value)
    return repo, blob, marker


def test_a_promisor_remote_runs_nothing_when_snapshotting_a_commit(partial_clone, tmp_path):
    repo, _, marker = partial_clone
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(SandboxError) as refused:
        materialise(repo, dest, "HEAD")
    assert not marker.exists(), "the repository's uploadpack command ran on the host"
    assert "b.txt at HEAD is missing" in str(refused.value)


def test_a_promisor_remote_in_a_tarball_runs_nothing(partial_clone, tmp_path):
    repo, _, marker = partial_clone
    tarball = tar_dir(repo, tmp_path / "repo.tgz")
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(SandboxError):
        materialise(tarball, dest, "HEAD")
    assert not marker.exists(), "the tarball's uploadpack command ran on the host"


def test_pre_image_blobs_fetch_nothing_from_a_promisor_remote(partial_clone):
    repo, blob, marker = partial_clone
    patch = f"diff --git a/b.txt b/b.txt\nindex {blob}..{'1' * 40} 100644\n--- a/b.txt\n+++ b/b.txt\n"
    assert preimage_blobs(repo, patch) == []
    assert not marker.exists(), "reading a pre-image ran the repository's uploadpack command"


@pytest.fixture
def secret_repo(tmp_path):
    """Another repository on the host, standing in for a private one under /root."""
    return make_repo(tmp_path / "private", {"secret.txt": "TOP SECRET\n"})


def _all_text(root: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in root.rglob("*") if p.is_file() and not p.is_symlink())


@pytest.mark.parametrize("as_tarball", [False, True])
def test_a_git_file_pointing_at_another_repository_is_refused(tmp_path, secret_repo, as_tarball):
    proj = tmp_path / "sub"
    proj.mkdir()
    (proj / "own.txt").write_text("own\n")
    (proj / ".git").write_text(f"gitdir: {secret_repo / '.git'}\n")
    source = tar_dir(proj, tmp_path / "sub.tgz") if as_tarball else proj
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(SandboxError, match="another repository"):
        materialise(source, dest, "HEAD")
    assert "TOP SECRET" not in _all_text(dest)
    with pytest.raises(SandboxError, match="another repository"):
        materialise(source, dest)
    assert "secret.txt" not in worktree_files(proj)


def test_borrowed_objects_from_another_repository_are_refused(tmp_path, secret_repo):
    repo = make_repo(tmp_path / "repo", {"a.txt": "a\n"})
    (repo / ".git" / "objects" / "info" / "alternates").write_text(str(secret_repo / ".git" / "objects") + "\n")
    secret_commit = git(secret_repo, "rev-parse", "HEAD")
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(SandboxError, match="outside the repository"):
        materialise(repo, dest, secret_commit)
    assert "TOP SECRET" not in _all_text(dest)


def test_a_nested_git_file_never_leads_into_another_repository(tmp_path, secret_repo):
    repo = make_repo(tmp_path / "repo", {"a.txt": "a\n"})
    (repo / "sub").mkdir()
    (repo / "sub" / "own.txt").write_text("own\n")
    (repo / "sub" / ".git").write_text(f"gitdir: {secret_repo / '.git'}\n")
    dest = tmp_path / "dest"
    dest.mkdir()
    materialise(repo, dest)
    assert (dest / "sub" / "own.txt").exists() and not (dest / "sub" / ".git").exists()
    assert "TOP SECRET" not in _all_text(dest)
    for listing in (worktree_files(repo), list(fingerprint_tree(repo)), list_files(repo)):
        assert not any("secret" in p for p in listing)


def test_the_agents_nested_repository_stays_out_of_the_patch(tmp_path, secret_repo):
    """The agent writes `sub/.git` → a host repository: the host-side diff must not read it
    (git would record that repository's HEAD as a gitlink in the patch)."""
    src = make_repo(tmp_path / "src", {"a.txt": "a\n"})
    ws, baseline = prepare_workspace(src, None, tmp_path / "sb")
    (ws / "a.txt").write_text("changed\n")
    (ws / "sub").mkdir()
    (ws / "sub" / "x.txt").write_text("x\n")
    (ws / "sub" / ".git").write_text(f"gitdir: {secret_repo / '.git'}\n")
    patch = baseline.diff()
    assert "+changed" in patch
    assert git(secret_repo, "rev-parse", "HEAD") not in patch and "Subproject" not in patch


@pytest.fixture
def booby_trapped(tmp_path):
    """A repository whose config sets an fsmonitor hook and a filter driver that `.gitattributes`
    applies to every file: each writes a marker when run."""
    markers = tmp_path / "markers"
    markers.mkdir()
    hook = tmp_path / "fsmonitor.sh"
    hook.write_text(f"#!/bin/sh\ntouch {markers / 'fsmonitor'}\n")
    hook.chmod(0o755)
    repo = make_repo(tmp_path / "repo", {"a.txt": "one\n", "b.txt": "two\n", ".gitattributes": "* filter=evil\n"})
    git(repo, "config", "core.fsmonitor", str(hook))
    git(repo, "config", "filter.evil.clean", f"touch {markers / 'clean'}; cat")
    git(repo, "config", "filter.evil.smudge", f"touch {markers / 'smudge'}; cat")
    git(repo, "config", "filter.evil.process", f"touch {markers / 'process'}; false")
    return repo, markers


def test_planted_fsmonitor_and_filters_run_nothing(booby_trapped, tmp_path):
    repo, markers = booby_trapped
    (repo / "untracked.txt").write_text("u\n")
    for commit in (None, "HEAD"):
        dest = tmp_path / f"dest-{commit}"
        dest.mkdir()
        materialise(repo, dest, commit)
        assert (dest / "a.txt").read_text() == "one\n"
    assert set(worktree_files(repo)) >= {"a.txt", "b.txt", "untracked.txt"}
    assert "a.txt" in list_files(repo)
    fp = fingerprint_tree(repo)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "result.json").write_text('{"run_id": "r1", "status": "resolved"}')
    (run_dir / "snapshot.json").write_text(json.dumps(fp))
    patch = "diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-one\n+uno\n"
    (run_dir / "patch.diff").write_text(patch)
    assert apply_run(run_dir, repo) == ["a.txt"]
    assert (repo / "a.txt").read_text() == "uno\n"
    assert sorted(os.listdir(markers)) == [], "the repository's config ran a command on the host"
