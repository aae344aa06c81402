"""A reproduction test is written by the (untrusted) agent: it is shown to the user, never counted
in a verdict. Each patch here carries one that passes; none of them is resolved by it, whatever
is observed of the test for the user ("fails before, passes after"). Real sandboxes, real git,
real pytest."""

from __future__ import annotations

import shutil

from test_validate_fake_pass import calc_task, new_file
from validate_helpers import FIXTURES, LIMITS, patch_text

from selfcoder.validate import ValidationTask, validate
from selfcoder.validate.protected import new_test_files

CALC = FIXTURES / "repos/calc_py"
FILE = "tests/test_reproduce_issue.py"  # where the repository's test command collects it, were it left there
ASSERTS_TRUE = new_file(FILE, "def test_the_problem_is_gone():\n    assert True\n")
MEAN_TEST = "def test_mean_of_three():\n    assert mean([1, 2, 3]) == 2\n"


def passing_calc(tmp_path):
    """calc_py without its failing test: a repository whose tests all pass."""
    repo = tmp_path / "calc_py"
    shutil.copytree(CALC, repo)
    tests = repo / "tests" / "test_ops.py"
    tests.write_text(tests.read_text().replace(MEAN_TEST, ""))
    return repo


def reproduction_ids(verdict) -> list[str]:
    return [t for run in verdict.tests.values() for t in run if FILE in t]


def test_a_real_fix_beside_its_reproduction_test_resolves_and_the_test_is_seen_to_fail_before(tmp_path):
    repro = new_file(FILE, "from calc import mean\n\n\n" + MEAN_TEST)
    v = validate(ValidationTask(source=passing_calc(tmp_path)), patch_text("calc_py", "good") + repro,
                 backend="local", limits=LIMITS)
    assert v.status == "resolved", v.message
    assert v.reproduction == {FILE: "fails before, passes after"} and reproduction_ids(v) == []


def test_a_passing_test_file_alone_resolves_nothing_where_a_test_fails():
    v = validate(calc_task(), ASSERTS_TRUE, backend="local", limits=LIMITS)
    assert v.status == "unresolved", v.message
    assert v.restored_files == [FILE] and reproduction_ids(v) == []
    assert v.fail_to_pass.failure == ["tests/test_ops.py::test_mean_of_three"]


def test_a_passing_test_file_alone_resolves_nothing_where_every_test_passes(tmp_path):
    """Without it the patch would be empty; with it, it must not become 'resolved'."""
    v = validate(ValidationTask(source=passing_calc(tmp_path)), ASSERTS_TRUE, backend="local", limits=LIMITS)
    assert v.status == "unresolved", v.message
    assert "nothing of the patch is left to test" in v.message and reproduction_ids(v) == []
    assert v.reproduction == {FILE: "passes before, passes after"}


def test_a_code_change_that_breaks_a_repository_test_stays_unresolved_beside_its_passing_test(tmp_path):
    breaks_subtract = patch_text("calc_py", "bad")  # fixes mean, breaks subtract
    vouches = new_file(FILE, "from calc import subtract\n\n\ndef test_subtract():\n    assert subtract(5, 3) == -2\n")
    v = validate(ValidationTask(source=passing_calc(tmp_path)), breaks_subtract + vouches, backend="local", limits=LIMITS)
    assert v.status == "unresolved", v.message
    assert v.pass_to_pass.failure == ["tests/test_ops.py::test_subtract"] and reproduction_ids(v) == []
    assert v.reproduction == {FILE: "fails before, passes after"}  # it "reproduces", and decides nothing


def test_the_reproduction_tests_of_a_patch_are_the_test_modules_it_creates():
    fix = patch_text("calc_py", "good")
    helper = new_file("tests/helpers.py", "X = 1\n") + new_file("tests/test_new.py", "def test_x():\n    pass\n")
    assert new_test_files(new_file("test_reproduce_issue.py", "x = 1\n") + fix + ASSERTS_TRUE + helper) == [
        "test_reproduce_issue.py", FILE, "tests/test_new.py"]
    changed_test = ("diff --git a/tests/test_ops.py b/tests/test_ops.py\n--- a/tests/test_ops.py\n"
                    "+++ b/tests/test_ops.py\n@@ -1 +1 @@\n-import pytest\n+import pytest  # changed\n")
    assert new_test_files(fix + changed_test) == []  # an edited test is not the agent's own
    assert new_test_files(new_file("../test_reproduce_issue.py", "x = 1\n")) == []  # an unsafe path: refused elsewhere
