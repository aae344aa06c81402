"""Issue 8, finding 4: a patch cannot fake a pass. Real sandboxes, real pytest, real git.

Each patch here leaves the bug in place and instead tampers with what decides the verdict; on
the old code each of them was `resolved`."""

from __future__ import annotations

from validate_helpers import FIXTURES, LIMITS, fixture_task

from selfcoder.validate import ValidationTask, validate
from selfcoder.validate.protected import command_files, verdict_files

CALC = FIXTURES / "repos/calc_py"
WORDCOUNT = FIXTURES / "repos/wordcount_sh"


def new_file(path: str, text: str) -> str:
    lines = text.splitlines()
    body = "".join(f"+{line}\n" for line in lines)
    return (f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
            f"@@ -0,0 +1,{len(lines)} @@\n{body}")


CONFTEST_ALL_PASS = """import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    report.outcome = "passed"
"""

def calc_task(**extra) -> ValidationTask:
    t = fixture_task("calc_py-mean")
    return ValidationTask(source=CALC, fail_to_pass=t["FAIL_TO_PASS"], pass_to_pass=t["PASS_TO_PASS"], **extra)


def test_a_conftest_that_marks_everything_passed_is_not_resolved(any_backend):
    v = validate(calc_task(), new_file("conftest.py", CONFTEST_ALL_PASS), backend=any_backend, limits=LIMITS)
    assert v.status == "unresolved", v.message
    assert v.restored_files == ["conftest.py"]
    assert "conftest.py" in v.message
    assert v.fail_to_pass.failure == ["tests/test_ops.py::test_mean_of_three"]


def test_a_nested_conftest_in_the_before_after_mode_is_set_aside_too(any_backend):
    patch = new_file("tests/conftest.py", CONFTEST_ALL_PASS)
    v = validate(ValidationTask(source=CALC), patch, backend=any_backend, limits=LIMITS)
    assert v.status == "unresolved", v.message
    assert v.restored_files == ["tests/conftest.py"]


def test_the_test_command_script_comes_from_the_snapshot(any_backend):
    t = fixture_task("wordcount_sh-empty")
    script = (WORDCOUNT / "run_tests.sh").read_text().splitlines()
    fake = "#!/bin/sh\necho 1..4\n" + "".join(f"echo 'ok {i} - {name}'\n" for i, name in enumerate(
        ["counts words on one line", "counts words across lines", "tabs separate words", "empty input gives 0"], 1))
    removed = "".join(f"-{line}\n" for line in script)
    added = "".join(f"+{line}\n" for line in fake.splitlines())
    patch = (f"diff --git a/run_tests.sh b/run_tests.sh\n--- a/run_tests.sh\n+++ b/run_tests.sh\n"
             f"@@ -1,{len(script)} +1,{len(fake.splitlines())} @@\n{removed}{added}")
    v = validate(ValidationTask(source=WORDCOUNT, test_cmd=t["test_cmd"], fail_to_pass=t["FAIL_TO_PASS"],
                                pass_to_pass=t["PASS_TO_PASS"]), patch, backend=any_backend, limits=LIMITS)
    assert v.apply_method is not None, v.apply_log
    assert v.status == "unresolved", v.message
    assert v.restored_files == ["run_tests.sh"]


def test_a_real_fix_next_to_a_test_edit_still_resolves_on_the_snapshot_tests(any_backend):
    fix = (FIXTURES / "patches/calc_py/good.diff").read_text()
    v = validate(calc_task(), fix + new_file("tests/test_extra.py", "def test_x():\n    assert True\n"),
                 backend=any_backend, limits=LIMITS)
    assert v.status == "resolved", v.message
    assert v.restored_files == ["tests/test_extra.py"]
    assert "tests/test_ops.py::test_mean_of_three" in v.fail_to_pass.success


def test_which_files_decide_a_verdict():
    paths = ["calc/ops.py", "conftest.py", "pkg/tests/helpers.py", "test_a.py", "a_test.py", "setup.cfg",
             "pyproject.toml", "x/sitecustomize.py", "evil.pth", "scripts/run.sh", "docs/testing.md", "runtests.py"]
    assert verdict_files(paths, "python3 runtests.py --verbose") == [
        "conftest.py", "pkg/tests/helpers.py", "test_a.py", "a_test.py", "setup.cfg", "pyproject.toml",
        "x/sitecustomize.py", "evil.pth", "runtests.py"]
    assert "scripts/run.sh" in command_files("bash ./scripts/run.sh -x")
    assert command_files("python3 -m pytest -q") == set()
