"""A child's diff may change only files of its scaffold (issue 10, item 6: safety)."""

from __future__ import annotations

import pytest

from selfcoder.core.errors import SelfcoderError
from selfcoder.evolve.step import apply_child, patch_paths_problem

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
