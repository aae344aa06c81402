"""Our SWE-bench log parsers and grading rule against the official ones (`swebench` package), on
real logs: SymPy's and Django's runners (stored, see tests/fixtures/logs/README.md), and pytest
-rA and unittest -v logs produced right here by the real runners."""

from __future__ import annotations

import itertools
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from selfcoder.eval import official_rule
from selfcoder.validate.swe_logs import SWE_PARSERS, to_test_statuses

# the dev extra (what scripts/test installs) carries swebench: this comparison always runs, never skips
from swebench.harness.log_parsers.python import MAP_REPO_TO_PARSER_PY as OFFICIAL  # noqa: E402
LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "logs"

PYTEST_TESTS = textwrap.dedent('''
    import pytest

    def test_passes():
        assert True

    def test_fails():
        assert 1 == 2, "one - is not two"

    @pytest.fixture
    def broken():
        raise RuntimeError("fixture")

    def test_errors(broken):
        pass

    @pytest.mark.skip(reason="not here")
    def test_skipped():
        pass

    @pytest.mark.xfail
    def test_xfails():
        assert False

    @pytest.mark.parametrize("n", [1, 2, 3])
    def test_param(n):
        assert n != 2

    class TestGroup:
        def test_inside(self):
            assert True
''')

UNITTEST_TESTS = textwrap.dedent('''
    import unittest

    class Demo(unittest.TestCase):
        def test_passes(self):
            self.assertTrue(True)

        def test_fails(self):
            self.assertEqual(1, 2)

        def test_errors(self):
            raise ZeroDivisionError

        @unittest.skip("not here")
        def test_skipped(self):
            pass

        @unittest.expectedFailure
        def test_xfails(self):
            self.assertEqual(1, 2)

        def test_docstring(self):
            """A docstring line."""
''')


def run_log(tmp_path: Path, name: str, source: str, argv: list[str]) -> str:
    (tmp_path / name).write_text(source)
    res = subprocess.run([sys.executable, *argv], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    return res.stdout + res.stderr


@pytest.fixture(scope="module")
def pytest_log(tmp_path_factory) -> str:
    log = run_log(tmp_path_factory.mktemp("pytest"), "test_demo.py", PYTEST_TESTS,
                  ["-m", "pytest", "-rA", "-p", "no:cacheprovider", "test_demo.py"])
    assert "PASSED test_demo.py::test_passes" in log and "XFAIL" in log, log
    return log


@pytest.fixture(scope="module")
def unittest_log(tmp_path_factory) -> str:
    log = run_log(tmp_path_factory.mktemp("unittest"), "test_demo.py", UNITTEST_TESTS, ["-m", "unittest", "-v", "test_demo"])
    assert "... ok" in log and "FAIL" in log, log
    return log


def cases():
    """(our parser, official repository whose parser is the reference, log name)."""
    return [
        ("sympy", "sympy/sympy", "sympy"),
        ("django", "django/django", "django"),
        ("unittest", "django/django", "unittest"),
        ("pytest-ra", "pytest-dev/pytest", "pytest"),
        ("pytest-v2", "astropy/astropy", "pytest"),
        ("pytest-options", "psf/requests", "pytest"),
        ("matplotlib", "matplotlib/matplotlib", "pytest"),
        ("seaborn", "mwaskom/seaborn", "pytest"),
    ]


@pytest.fixture
def logs(pytest_log, unittest_log) -> dict[str, str]:
    return {"sympy": (LOGS / "sympy_bin_test.log").read_text(), "django": (LOGS / "django_runtests.log").read_text(),
            "pytest": pytest_log, "unittest": unittest_log}


def verdict_inputs(statuses: dict[str, str]):
    """Every way of picking FAIL_TO_PASS / PASS_TO_PASS from a few tests of each status, plus a missing one."""
    picks = []
    for status in ("passed", "failed", "error", "skipped"):
        picks += [t for t, s in statuses.items() if s == status][:1]
    picks.append("test_that_does_not_exist")
    picks.append(next((t for t in statuses if "[" in t), "none"))  # a parametrized id
    for f2p_n, p2p_n in itertools.product(range(1, 3), range(0, 3)):
        for f2p in itertools.combinations(picks, f2p_n):
            for p2p in itertools.combinations([p for p in picks if p not in f2p], p2p_n):
                yield list(f2p), list(p2p)


@pytest.mark.parametrize("ours,repo,log_name", cases())
def test_same_statuses_and_same_verdicts_as_the_official_harness(ours, repo, log_name, logs):
    log = logs[log_name]
    official_raw = OFFICIAL[repo](log, None)
    our_raw = SWE_PARSERS[ours][0](log)
    assert our_raw == official_raw
    statuses = to_test_statuses(our_raw)
    kinds = set(statuses.values())
    assert {"passed", "failed"} <= kinds, statuses  # a log that shows something
    compared = 0
    for f2p, p2p in verdict_inputs(statuses):
        mine = official_rule.tests_report(statuses, f2p, p2p, official=False)
        theirs = official_rule.tests_report(statuses, f2p, p2p, official=True)
        assert mine["FAIL_TO_PASS"] == theirs["FAIL_TO_PASS"] and mine["PASS_TO_PASS"] == theirs["PASS_TO_PASS"]
        from swebench.harness.grading import get_resolution_status

        assert official_rule.resolution_status(mine) == get_resolution_status(theirs), (f2p, p2p)
        compared += 1
    assert compared > 20


def test_xfail_grades_like_the_official_xfail(pytest_log):
    """Official maps keep XFAIL; ours fold it into `passed`: the verdicts must not move."""
    from swebench.harness.grading import get_eval_tests_report, get_resolution_status

    raw = OFFICIAL["pytest-dev/pytest"](pytest_log, None)
    assert raw["test_demo.py::test_xfails"] == "XFAIL"
    lists = {"FAIL_TO_PASS": ["test_demo.py::test_xfails"], "PASS_TO_PASS": ["test_demo.py::test_passes"]}
    official = get_resolution_status(get_eval_tests_report(raw, lists))
    ours = official_rule.resolution_status(official_rule.tests_report(to_test_statuses(raw), lists["FAIL_TO_PASS"],
                                                          lists["PASS_TO_PASS"], official=False))
    assert ours == official == official_rule.FULL
