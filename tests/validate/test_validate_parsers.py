"""Non-pytest parsers on real output: the wordcount fixture's TAP script, go-test-like and
automake-like lines, and the registry."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from selfcoder.core.errors import SelfcoderError
from selfcoder.validate.parsers import (
    LogParser,
    get_parser,
    is_pytest_command,
    parser_for,
    parser_names,
    register_parser,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_tap_on_the_wordcount_fixture(tmp_path: Path):
    repo = tmp_path / "wc"
    shutil.copytree(FIXTURES / "repos/wordcount_sh", repo)
    res = subprocess.run(["sh", "run_tests.sh"], cwd=repo, capture_output=True, text=True, timeout=60)
    assert res.returncode != 0
    assert get_parser("tap").parse(res.stdout) == {
        "counts words on one line": "passed",
        "counts words across lines": "passed",
        "tabs separate words": "passed",
        "empty input gives 0": "failed",
    }
    assert get_parser("auto").parse(res.stdout) == get_parser("tap").parse(res.stdout)


def test_tap_directives_unnamed_and_duplicate_tests():
    out = "\n".join([
        "1..6", "ok 1 - a", "not ok 2 - b # TODO later", "ok 3 # SKIP no network",
        "not ok 4", "ok 5 - a", "    ok 1 - subtest (ignored)", "# comment", "ok 6 - c # skip",
    ])
    assert get_parser("tap").parse(out) == {
        "a": "passed", "b": "skipped", "test 3": "skipped", "test 4": "failed", "a #2": "passed", "c": "skipped",
    }


def test_lines_parser_formats():
    out = "\n".join([
        "PASS: t-one", "FAIL: t-two", "SKIP: t-three", "ERROR: t-four",  # automake
        "--- PASS: TestAdd (0.00s)", "--- FAIL: TestSub (0.01s)",  # go test -v
        "ok  \texample.com/pkg\t0.01s",  # go's package line: not a test
        "test_x (tests.T.test_x) ... ok", "test_y (tests.T.test_y) ... FAIL",  # unittest -v
        "test_z (tests.T.test_z) ... skipped 'no'",
    ])
    assert get_parser("auto").parse(out) == {
        "t-one": "passed", "t-two": "failed", "t-three": "skipped", "t-four": "error",
        "TestAdd": "passed", "TestSub": "failed",
        "test_x (tests.T.test_x)": "passed", "test_y (tests.T.test_y)": "failed", "test_z (tests.T.test_z)": "skipped",
    }


def test_choosing_a_parser():
    assert is_pytest_command("python3 -m pytest -q")
    assert is_pytest_command("cd src && pytest tests/")
    assert is_pytest_command("/usr/bin/py.test")
    assert not is_pytest_command("./run_tests.sh")
    assert not is_pytest_command("make test-pytest-like")
    assert parser_for("pytest -x").name == "pytest"
    assert parser_for("./run_tests.sh").name == "auto"
    assert parser_for("./run_tests.sh", "tap").name == "tap"
    with pytest.raises(SelfcoderError, match="unknown test log parser 'nope'.*tap"):
        get_parser("nope")


def test_registering_a_parser():
    class Dots(LogParser):
        name = "dots-for-test"

        def parse(self, output, report=None, known_files=()):
            return {f"t{i}": ("passed" if c == "." else "failed") for i, c in enumerate(output.strip())}

    register_parser(Dots())
    assert "dots-for-test" in parser_names()
    assert get_parser("dots-for-test").parse(".F.") == {"t0": "passed", "t1": "failed", "t2": "passed"}
