"""`--apply`: writes only a validated patch, and never over files changed since the snapshot."""

import json
import subprocess

import pytest

from selfcoder.core.worktree_apply import apply_run, touched_files
from selfcoder.core.errors import SelfcoderError
from selfcoder.core.fingerprint import changed_since, fingerprint_tree

PATCH = """diff --git a/a.txt b/a.txt
--- a/a.txt
+++ b/a.txt
@@ -1 +1 @@
-one
+uno
diff --git a/new.txt b/new.txt
new file mode 100644
--- /dev/null
+++ b/new.txt
@@ -0,0 +1 @@
+fresh
"""


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    (root / "a.txt").write_text("one\n")
    (root / "b.txt").write_text("two\n")
    (root / "ignored.log").write_text("x\n")
    (root / ".gitignore").write_text("*.log\n")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


def make_run(tmp_path, repo, status="resolved", patch=PATCH):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "result.json").write_text(json.dumps({"run_id": "r1", "status": status}))
    (run_dir / "patch.diff").write_text(patch)
    (run_dir / "snapshot.json").write_text(json.dumps(fingerprint_tree(repo)))
    return run_dir


def test_fingerprint_follows_git_ignore_rules(repo):
    fp = fingerprint_tree(repo)
    assert set(fp) == {".gitignore", "a.txt", "b.txt"}


def test_applies_a_validated_patch(tmp_path, repo):
    run_dir = make_run(tmp_path, repo)
    assert apply_run(run_dir, repo) == ["a.txt", "new.txt"]
    assert (repo / "a.txt").read_text() == "uno\n"
    assert (repo / "new.txt").read_text() == "fresh\n"


def test_refuses_when_the_tree_changed_since_the_snapshot(tmp_path, repo):
    run_dir = make_run(tmp_path, repo)
    (repo / "b.txt").write_text("edited by the user\n")
    (repo / "untracked.py").write_text("print()\n")
    (repo / "more.log").write_text("ignored, so not a change\n")
    with pytest.raises(SelfcoderError, match=r"changed since the snapshot \(b.txt, untracked.py\)"):
        apply_run(run_dir, repo)
    assert (repo / "a.txt").read_text() == "one\n"


def test_refuses_an_unvalidated_patch(tmp_path, repo):
    run_dir = make_run(tmp_path, repo, status="unresolved")
    with pytest.raises(SelfcoderError, match="not validated"):
        apply_run(run_dir, repo)
    assert (repo / "a.txt").read_text() == "one\n"


def test_changed_since_sees_deletions(repo):
    fp = fingerprint_tree(repo)
    (repo / "a.txt").unlink()
    assert changed_since(repo, fp) == ["a.txt"]


def test_touched_files():
    assert touched_files(PATCH) == ["a.txt", "new.txt"]
