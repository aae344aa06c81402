"""Security round 3, findings 2 and 3: a patch that keeps the bug and forges the test run's report from
inside the test process, or swaps the test runner, is never resolved. Real sandboxes, real pytest, real
git; each patch here was `resolved` before the canaries, the diff scan and the safe start."""

from __future__ import annotations

from test_validate_fake_pass import calc_task, new_file
from validate_helpers import FIXTURES, LIMITS

from selfcoder.validate import validate
from selfcoder.validate.protected import verdict_files
from selfcoder.validate.tamper import scan_patch

F2P = "tests/test_ops.py::test_mean_of_three"

# Rebuilds pytest's report of every test as passed; names spelled so that no scan term matches.
HIDDEN_FORGERY = """

_reports = __import__("_py" + "test.reports", fromlist=["x"])
_Report = getattr(_reports, "Test" + "Report")
_build = _Report.from_item_and_call.__func__


def _passed(cls, item, call):
    report = _build(cls, item, call)
    report.outcome, report.longrepr = "passed", None
    return report


_Report.from_item_and_call = classmethod(_passed)
"""

PLAIN_FORGERY = """

import _pytest.reports

_build = _pytest.reports.TestReport.from_item_and_call.__func__
_pytest.reports.TestReport.from_item_and_call = classmethod(
    lambda cls, item, call: setattr(r := _build(cls, item, call), "outcome", "passed") or r)
"""

# Stands in for pytest: writes a JUnit report with every test passed, where pytest would, and exits 0.
FAKE_RUNNER = """import os
import shlex

_names = ["test_add", "test_subtract", "test_add_many[1-2-3]", "test_add_many[-1-1-0]", "test_mean_of_three"]
_cases = "".join(f'<testcase classname="tests.test_ops" name="{n}" file="tests/test_ops.py"/>' for n in _names)
_cases += ''.join(f'<testcase classname="tests.test_ops.TestClamp" name="{n}" file="tests/test_ops.py"/>'
                  for n in ["test_inside", "test_outside"])
for _opt in shlex.split(os.environ.get("PYTEST_" + "ADDOPTS", "")):
    if _opt.startswith("--junit" + "xml="):
        with open(_opt.split("=", 1)[1], "w") as f:
            f.write("<testsuites><testsuite>" + _cases + "</testsuite></testsuites>")
print("7 passed")
os._exit(0)
"""

PLUGIN = """def _passed(item, call):
    reports = __import__("_py" + "test.reports", fromlist=["x"])
    report = getattr(reports, "Test" + "Report").from_item_and_call(item, call)
    report.outcome, report.longrepr = "passed", None
    return report


globals()["py" + "test_runtest_makereport"] = _passed
"""


def append_to_ops(code: str) -> str:
    """A patch that leaves `mean` as it is and appends `code` to calc/ops.py."""
    ops = (FIXTURES / "repos/calc_py/calc/ops.py").read_text().splitlines()
    tail = ops[-3:]
    added = code.splitlines()
    return ("diff --git a/calc/ops.py b/calc/ops.py\n--- a/calc/ops.py\n+++ b/calc/ops.py\n"
            f"@@ -{len(ops) - 2},3 +{len(ops) - 2},{3 + len(added)} @@\n"
            + "".join(f" {line}\n" for line in tail) + "".join(f"+{line}\n" for line in added))


def test_a_forged_report_that_no_scan_sees_is_caught_by_the_canaries(any_backend):
    v = validate(calc_task(), append_to_ops(HIDDEN_FORGERY), backend=any_backend, limits=LIMITS)
    assert v.apply_method is not None, v.apply_log
    assert v.status == "suspicious", v.message
    assert not v.resolved
    assert any("canary test that must fail was reported passed" in s for s in v.suspicious), v.suspicious
    assert F2P in v.fail_to_pass.success  # the forgery worked on the report: only the canaries show it
    assert not any("test_" in t and "/.selfcoder-validate/" in t for t in v.tests["after"])


def test_a_plain_override_of_pytests_reports_is_shown_with_its_lines():
    v = validate(calc_task(), append_to_ops(PLAIN_FORGERY), backend="local", limits=LIMITS)
    assert v.status == "suspicious", v.message
    lines = [s for s in v.suspicious if "calc/ops.py:" in s]
    assert lines and "import _pytest.reports" in lines[0] and "pytest internals" in lines[0], v.suspicious
    assert "not trusted" in v.message and "calc/ops.py" in v.message


def test_a_top_level_pytest_module_does_not_replace_the_runner(any_backend):
    v = validate(calc_task(), new_file("pytest.py", FAKE_RUNNER), backend=any_backend, limits=LIMITS)
    assert v.status == "unresolved", v.message
    assert v.restored_files == ["pytest.py"]
    assert v.tests["after"][F2P] == "failed"  # the real pytest ran


def test_a_module_that_shadows_a_dependency_of_pytest_is_not_imported_first(any_backend):
    # iniconfig is imported by pytest at start-up: with the working directory first on sys.path
    # (python -m pytest) this file would run in its place and write the report
    v = validate(calc_task(), new_file("iniconfig.py", FAKE_RUNNER), backend=any_backend, limits=LIMITS)
    assert v.status == "unresolved", v.message
    assert v.tests["after"][F2P] == "failed"


def test_an_entry_point_plugin_in_the_repository_is_not_loaded(any_backend):
    patch = (new_file("evil-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: evil\nVersion: 1.0")
             + new_file("evil-1.0.dist-info/entry_points.txt", "[pytest11]\nevil = evil_plugin")
             + new_file("evil_plugin.py", PLUGIN))
    v = validate(calc_task(), patch, backend=any_backend, limits=LIMITS)
    assert v.status == "unresolved", v.message
    assert v.restored_files == ["evil-1.0.dist-info/METADATA", "evil-1.0.dist-info/entry_points.txt"]
    assert v.tests["after"][F2P] == "failed"


def test_a_real_fix_stays_resolved_and_unsuspected():
    v = validate(calc_task(), (FIXTURES / "patches/calc_py/good.diff").read_text(), backend="local", limits=LIMITS)
    assert v.status == "resolved", v.message
    assert v.suspicious == []
    assert set(v.tests["after"]) == {F2P, *calc_task().pass_to_pass}  # the canaries are not in the report


def test_what_the_diff_scan_flags():
    patch = append_to_ops("import sys\nsys.modules['calc'] = None\nimport builtins\n")
    hits = scan_patch(patch)
    assert [h.split(": ", 1)[0] for h in hits] == ["calc/ops.py:25", "calc/ops.py:26"]
    assert scan_patch(patch, skip={"calc/ops.py"}) == []
    # a term the file already used is its business (a test framework's own code)
    assert scan_patch(patch, old_text=lambda path: "import sys\nx = sys.modules\nimport builtins\n") == []
    assert scan_patch((FIXTURES / "patches/calc_py/good.diff").read_text()) == []


def test_which_runner_files_come_from_the_snapshot():
    paths = ["pytest.py", "_pytest/main.py", "pluggy/__init__.py", "src/_pytest/main.py", "x.egg-info/entry_points.txt",
             "lib/evil-1.dist-info/RECORD", ".selfcoder-validate/m1.py", "calc/pytest_helpers.py"]
    assert verdict_files(paths, "python3 -m pytest") == [
        "pytest.py", "_pytest/main.py", "pluggy/__init__.py", "x.egg-info/entry_points.txt",
        "lib/evil-1.dist-info/RECORD", ".selfcoder-validate/m1.py"]
