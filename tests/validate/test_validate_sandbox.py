"""validate() end to end through real sandboxes, real git, real pytest, real patch tools."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from validate_helpers import FIXTURES, LIMITS, fixture_task, git, patch_text

from selfcoder.validate import ValidationTask, validate

CALC = FIXTURES / "repos/calc_py"
WORDCOUNT = FIXTURES / "repos/wordcount_sh"
MEAN = "tests/test_ops.py::test_mean_of_three"


def named_calc_task(**extra) -> ValidationTask:
    t = fixture_task("calc_py-mean")
    return ValidationTask(source=CALC, fail_to_pass=t["FAIL_TO_PASS"], pass_to_pass=t["PASS_TO_PASS"], **extra)


def test_known_good_patch_resolves_with_named_tests(any_backend):
    v = validate(named_calc_task(), patch_text("calc_py", "good"), backend=any_backend, limits=LIMITS)
    assert v.status == "resolved", v.message
    assert v.mode == "named" and [r.phase for r in v.runs] == ["after"]  # SWE-bench: one run
    assert v.apply_method == "git apply"
    assert v.fail_to_pass.success == [MEAN] and not v.fail_to_pass.failure
    assert len(v.pass_to_pass.success) == 6 and not v.pass_to_pass.failure
    assert set(v.tests["after"].values()) == {"passed"} and len(v.tests["after"]) == 7
    json.dumps(v.to_json())  # validation.json


def test_known_bad_patch_lists_what_broke(any_backend):
    v = validate(ValidationTask(source=CALC), patch_text("calc_py", "bad"), backend=any_backend, limits=LIMITS)
    assert v.status == "unresolved"
    assert v.fail_to_pass.success == [MEAN]  # the target test does pass...
    assert v.pass_to_pass.failure == ["tests/test_ops.py::test_subtract"]  # ...but this one broke
    assert "tests/test_ops.py::test_subtract" in v.message
    assert v.tests["before"]["tests/test_ops.py::test_subtract"] == "passed"
    assert v.tests["after"]["tests/test_ops.py::test_subtract"] == "failed"


def test_non_applying_patch_is_a_verdict(any_backend):
    v = validate(ValidationTask(source=CALC), patch_text("calc_py", "noapply"), backend=any_backend, limits=LIMITS)
    assert v.status == "patch_failed" and v.apply_method is None
    assert "does not apply" in v.message
    for method in ("git apply (exit", "git apply --3way (exit", "patch --fuzz (exit"):
        assert method in v.apply_log  # every tool's message is kept
    assert "Hunk #1 FAILED" in v.apply_log
    assert v.runs == []  # no test run for a patch that is not there


def test_empty_patch():
    v = validate(ValidationTask(source=CALC), "  \n", backend="local", limits=LIMITS)
    assert v.status == "patch_failed" and v.message == "the patch is empty"


def test_fuzzy_patch_falls_back_to_patch_fuzz():
    v = validate(named_calc_task(), patch_text("calc_py", "fuzz"), backend="local", limits=LIMITS)
    assert v.apply_method == "patch --fuzz"
    assert "with fuzz 1" in v.apply_log
    assert v.status == "resolved", v.message


def test_three_way_fallback_uses_the_patch_preimage(tmp_path: Path):
    """The patch was made against an older commit; a nearby line changed since, so plain
    `git apply` fails, and `--3way` merges it using the old blob from the source repository."""
    repo = tmp_path / "calc"
    shutil.copytree(CALC, repo)
    git(repo, "init", "-q")
    ops = repo / "calc/ops.py"
    doc, old_doc = '"""Arithmetic mean of a non-empty list of numbers."""', '"""Mean of the values."""'
    ops.write_text(ops.read_text().replace(doc, old_doc))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "old")
    ops.write_text(ops.read_text().replace("len(values) - 1", "len(values)"))
    patch = git(repo, "diff")  # the fix, against the old version
    git(repo, "checkout", "-q", ".")
    ops.write_text(ops.read_text().replace(old_doc, doc))
    git(repo, "commit", "-qam", "new")

    v = validate(ValidationTask(source=repo), patch, backend="local", limits=LIMITS)
    assert v.apply_method == "git apply --3way", v.apply_log
    assert v.status == "resolved", v.message


def test_non_python_runner_tap(any_backend):
    task = fixture_task("wordcount_sh-empty")
    good = validate(ValidationTask(source=WORDCOUNT, test_cmd="./run_tests.sh"), patch_text("wordcount_sh", "good"),
                    backend=any_backend, limits=LIMITS)
    assert good.status == "resolved", good.message
    assert good.fail_to_pass.success == task["FAIL_TO_PASS"]
    assert sorted(good.pass_to_pass.success) == sorted(task["PASS_TO_PASS"])
    assert good.runs[0].parser == "auto"
    bad = validate(ValidationTask(source=WORDCOUNT, test_cmd="./run_tests.sh", log_parser="tap",
                                  fail_to_pass=task["FAIL_TO_PASS"], pass_to_pass=task["PASS_TO_PASS"]),
                   patch_text("wordcount_sh", "bad"), backend=any_backend, limits=LIMITS)
    assert bad.status == "unresolved"
    assert bad.pass_to_pass.failure == ["tabs separate words"]


def test_test_command_not_found():
    v = validate(ValidationTask(source=WORDCOUNT, test_cmd="./no_such_script.sh"), patch_text("wordcount_sh", "good"),
                 backend="local", limits=LIMITS)
    assert v.status == "test_cmd_failed"
    assert "exit 127" in v.message and "no_such_script.sh" in v.message


def test_patch_that_deletes_the_test_script_is_tested_with_the_snapshot_script():
    """The test command's script decides the verdict, so it comes from the snapshot: deleting it
    neither breaks the run nor fakes one."""
    patch = ("diff --git a/run_tests.sh b/run_tests.sh\ndeleted file mode 100755\n"
             "--- a/run_tests.sh\n+++ /dev/null\n" + _deleted_hunk(WORDCOUNT / "run_tests.sh"))
    v = validate(ValidationTask(source=WORDCOUNT, test_cmd="./run_tests.sh"), patch, backend="local", limits=LIMITS)
    assert v.status == "unresolved", v.message
    assert v.restored_files == ["run_tests.sh"]
    assert v.run("after").tests and v.run("before").tests  # the suite ran both times


def test_patch_that_breaks_the_program_under_test_is_unresolved():
    patch = ("diff --git a/wordcount.sh b/wordcount.sh\ndeleted file mode 100755\n"
             "--- a/wordcount.sh\n+++ /dev/null\n" + _deleted_hunk(WORDCOUNT / "wordcount.sh"))
    v = validate(ValidationTask(source=WORDCOUNT, test_cmd="./run_tests.sh"), patch, backend="local", limits=LIMITS)
    assert v.status == "unresolved", v.message
    assert "counts words on one line" in v.pass_to_pass.failure


def _deleted_hunk(path: Path) -> str:
    lines = path.read_text().splitlines(keepends=True)
    return f"@@ -1,{len(lines)} +0,0 @@\n" + "".join("-" + line for line in lines)


def test_timeout_is_recorded(tmp_path: Path):
    repo = tmp_path / "slow"
    (repo / "tests").mkdir(parents=True)
    (repo / "tests/test_slow.py").write_text("import time\n\ndef test_slow():\n    time.sleep(60)\n")
    (repo / "tests/test_fast.py").write_text("def test_fast():\n    pass\n")
    patch = "--- a/tests/test_fast.py\n+++ b/tests/test_fast.py\n@@ -1,2 +1,2 @@\n def test_fast():\n-    pass\n+    assert True\n"
    limits = LIMITS.__class__(**{**LIMITS.__dict__, "timeout_s": 3})
    v = validate(ValidationTask(source=repo, fail_to_pass=["tests/test_slow.py::test_slow"],
                                pass_to_pass=["tests/test_fast.py::test_fast"]), patch, backend="local", limits=limits)
    assert v.status == "unresolved"
    assert v.runs[0].timed_out and "timed out after 3 s" in v.message
    assert v.fail_to_pass.failure == ["tests/test_slow.py::test_slow"]


def test_test_patch_is_applied_and_model_edits_to_its_files_are_undone():
    new_test = "def test_mean_of_two():\n    from calc import mean\n    assert mean([1, 3]) == 2\n"
    test_patch = ("diff --git a/tests/test_more.py b/tests/test_more.py\nnew file mode 100644\n"
                  "--- /dev/null\n+++ b/tests/test_more.py\n@@ -0,0 +1,3 @@\n"
                  + "".join("+" + line + "\n" for line in new_test.splitlines()))
    task = named_calc_task(test_patch=test_patch)
    task.fail_to_pass.append("tests/test_more.py::test_mean_of_two")
    good = validate(task, patch_text("calc_py", "good"), backend="local", limits=LIMITS)
    assert good.status == "resolved", good.message
    assert good.test_patch_method == "git apply"
    assert good.tests["after"]["tests/test_more.py::test_mean_of_two"] == "passed"

    # A patch that "fixes" the bug by writing the test file itself: that file is put back
    # (here: removed) before the test patch goes on, so the real test runs and fails.
    cheat = test_patch.replace("assert mean([1, 3]) == 2", "assert True")
    bad = validate(task, cheat, backend="local", limits=LIMITS)
    assert bad.status == "unresolved"
    assert "tests/test_more.py::test_mean_of_two" in bad.fail_to_pass.failure


def test_unknown_backend_is_an_error_verdict():
    v = validate(ValidationTask(source=CALC), patch_text("calc_py", "good"), backend="nope", limits=LIMITS)
    assert v.status == "error" and "unknown sandbox backend 'nope'" in v.message
