"""A child's diff may change only files of its scaffold (issue 10, item 6: safety)."""

from __future__ import annotations

import pytest

from selfcoder.core.errors import SelfcoderError
from selfcoder.evolve.step import apply_child, patch_paths_problem, without_reproduction_tests

INSIDE = "diff --git a/agent.py b/agent.py\n--- a/agent.py\n+++ b/agent.py\n@@ -1 +1 @@\n-a\n+b\n"


@pytest.mark.parametrize("patch", [
    "diff --git a/../runner.py b/../runner.py\n--- a/../runner.py\n+++ b/../runner.py\n@@ -1 +1 @@\n-a\n+b\n",
    "diff --git a//etc/passwd b//etc/passwd\n--- /etc/passwd\n+++ /etc/passwd\n@@ -1 +1 @@\n-a\n+b\n",
    "diff --git a/.git/hooks/pre-commit b/.git/hooks/pre-commit\nnew file mode 100755\n--- /dev/null\n"
    "+++ b/.git/hooks/pre-commit\n@@ -0,0 +1 @@\n+boom\n",
    "diff --git a/x b/x\nnew file mode 120000\n--- /dev/null\n+++ b/x\n@@ -0,0 +1 @@\n+/etc/shadow\n",
    "diff --git a/a.py b/../a.py\nrename from a.py\nrename to ../a.py\n",
])
def test_a_diff_reaching_outside_the_scaffold_is_rejected(patch):
    assert patch_paths_problem(patch) is not None


def test_a_diff_inside_the_scaffold_is_accepted_and_applied(tmp_path):
    assert patch_paths_problem(INSIDE) is None
    parent = tmp_path / "parent"
    parent.mkdir()
    (parent / "main.py").write_text("")
    (parent / "agent.py").write_text("a\n")
    apply_child(parent, INSIDE, tmp_path / "child")
    assert (tmp_path / "child" / "agent.py").read_text() == "b\n"
    assert (parent / "agent.py").read_text() == "a\n"
    with pytest.raises(SelfcoderError, match="does not apply"):
        apply_child(parent, INSIDE.replace("-a", "-zzz"), tmp_path / "child2")


def _new(path: str, body: str = "def test_x():\n    assert 0\n") -> str:
    lines = body.splitlines()
    return (f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
            f"@@ -0,0 +1,{len(lines)} @@\n" + "".join(f"+{x}\n" for x in lines))


CONFIG = 'diff --git a/config.json b/config.json\n--- a/config.json\n+++ b/config.json\n@@ -1 +1 @@\n-{"a": 1}\n+{"a": 2}\n'


def test_the_parents_reproduction_test_is_left_out_of_the_child_and_nothing_else(tmp_path):
    """The parent's run on its own code writes test_reproduce_issue.py at the top (its reproduce-first
    step): not part of the child. New test modules elsewhere in the tree stay out of the child as
    well; tests under tests/ (a child may add tests), changes to existing files and new files that
    are not test modules stay in."""
    patch = _new("test_reproduce_issue.py") + CONFIG + _new("tests/test_more.py") + _new("prompts/test_notes.txt", "x")
    kept, dropped = without_reproduction_tests(patch)
    assert dropped == ["test_reproduce_issue.py"]
    assert kept == CONFIG + _new("tests/test_more.py") + _new("prompts/test_notes.txt", "x")
    parent = tmp_path / "parent"
    (parent / "tests").mkdir(parents=True)
    (parent / "config.json").write_text('{"a": 1}\n')
    apply_child(parent, kept, tmp_path / "child")
    assert not (tmp_path / "child" / "test_reproduce_issue.py").exists()
    assert (tmp_path / "child" / "config.json").read_text() == '{"a": 2}\n'
    assert without_reproduction_tests(CONFIG) == (CONFIG, [])


@pytest.mark.parametrize("patch", [
    # an existing test changed, or a test deleted, is not the run's own new test: it stays for the
    # scope and tamper checks to judge
    "diff --git a/test_guard.py b/test_guard.py\n--- a/test_guard.py\n+++ b/test_guard.py\n@@ -1 +1 @@\n-a\n+b\n",
    "diff --git a/test_guard.py b/test_guard.py\ndeleted file mode 100644\n--- a/test_guard.py\n+++ /dev/null\n"
    "@@ -1 +0,0 @@\n-a\n",
    # an unsafe path: nothing is dropped, the path check rejects the whole diff
    _new("../test_escape.py"),
])
def test_only_new_test_modules_are_dropped_never_a_change_the_checks_must_see(patch):
    assert without_reproduction_tests(patch) == (patch, [])
