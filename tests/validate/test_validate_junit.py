"""JUnit → node ids, on reports written by real pytest runs (Debian's pytest, the one the
sandbox uses, and the venv's), with the options the `pytest` parser adds."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from selfcoder.validate.parsers import PytestParser

TRICKY = '''
import pytest
from helpers import Base

class TestOuter:
    def test_a(self): pass
    class TestInner:
        def test_b(self): assert 0
    @pytest.mark.parametrize("x", ["a.b", "c::d", "e/f"])
    def test_p(self, x): pass

class TestInherit(Base):
    pass

@pytest.mark.xfail
def test_xf(): assert 0

def test_skip(): pytest.skip("nope")

@pytest.fixture
def broken(): raise RuntimeError("setup")
def test_setup_err(broken): pass

@pytest.fixture
def tear():
    yield
    raise RuntimeError("teardown")
def test_fail_and_teardown_err(tear): assert 0
def test_pass_and_teardown_err(tear): pass
'''

EXPECTED = {
    "tests/sub/test_tricky.py::TestOuter::test_a": "passed",
    "tests/sub/test_tricky.py::TestOuter::TestInner::test_b": "failed",
    "tests/sub/test_tricky.py::TestOuter::test_p[a.b]": "passed",
    "tests/sub/test_tricky.py::TestOuter::test_p[c::d]": "passed",
    "tests/sub/test_tricky.py::TestOuter::test_p[e/f]": "passed",
    "tests/sub/test_tricky.py::TestInherit::test_inherited": "passed",
    "tests/sub/test_tricky.py::test_xf": "skipped",
    "tests/sub/test_tricky.py::test_skip": "skipped",
    "tests/sub/test_tricky.py::test_setup_err": "error",
    "tests/sub/test_tricky.py::test_fail_and_teardown_err": "failed",
    "tests/sub/test_tricky.py::test_pass_and_teardown_err": "error",
    "tests/test_collect_err.py": "error",
    "pkg.dir/test_dotted_dir.py::test_d": "passed",
}

INTERPRETERS = {
    "debian": "/usr/bin/python3",  # what runs inside the local sandbox
    "venv": sys.executable,
}


def _has_pytest(python: str) -> bool:
    return shutil.which(python) is not None and subprocess.run(
        [python, "-c", "import pytest"], capture_output=True).returncode == 0


@pytest.fixture
def tricky_tree(tmp_path: Path) -> Path:
    (tmp_path / "tests/sub").mkdir(parents=True)
    (tmp_path / "tests/sub/test_tricky.py").write_text(TRICKY)
    (tmp_path / "tests/sub/helpers.py").write_text("class Base:\n    def test_inherited(self): pass\n")
    (tmp_path / "tests/test_collect_err.py").write_text("import not_a_module\ndef test_x(): pass\n")
    (tmp_path / "pkg.dir").mkdir()
    (tmp_path / "pkg.dir/test_dotted_dir.py").write_text("def test_d(): pass\n")
    (tmp_path / "conftest.py").write_text("")
    return tmp_path


def run_pytest(python: str, root: Path) -> tuple[str, bytes | None]:
    report = root / "report.xml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(PytestParser().env(str(report)))
    res = subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=root, env=env,
                         capture_output=True, text=True, timeout=120)
    return res.stdout + res.stderr, report.read_bytes() if report.exists() else None


@pytest.mark.parametrize("which", sorted(INTERPRETERS))
def test_node_ids_from_real_junit(tricky_tree: Path, which: str):
    python = INTERPRETERS[which]
    if not _has_pytest(python):
        pytest.skip(f"{python} has no pytest")
    output, report = run_pytest(python, tricky_tree)
    assert report is not None, output
    assert PytestParser().parse(output, report) == EXPECTED


def test_known_files_place_inherited_tests_whose_module_is_lowercase(tricky_tree: Path):
    """A class name that is not CapWords can only be placed through the known files."""
    (tricky_tree / "tests/sub/test_tricky.py").write_text(
        "from helpers import Base\nclass lowercase_tests(Base):\n    pass\n")
    (tricky_tree / "tests/test_collect_err.py").unlink()
    (tricky_tree / "pytest.ini").write_text("[pytest]\npython_classes = Test* *_tests\n")
    output, report = run_pytest(INTERPRETERS["venv"], tricky_tree)
    known = ["tests/sub/test_tricky.py", "tests/sub/helpers.py", "pkg.dir/test_dotted_dir.py"]
    statuses = PytestParser().parse(output, report, known)
    assert statuses["tests/sub/test_tricky.py::lowercase_tests::test_inherited"] == "passed"


def test_log_fallback_without_report(tricky_tree: Path):
    """No XML (pytest killed before writing it): the summary lines still give the failures."""
    output, _ = run_pytest(INTERPRETERS["venv"], tricky_tree)
    statuses = PytestParser().parse(output, None)
    assert statuses["tests/sub/test_tricky.py::TestOuter::TestInner::test_b"] == "failed"
    assert statuses["tests/test_collect_err.py"] == "error"
    assert "tests/sub/test_tricky.py::TestOuter::test_a" not in statuses  # passes are not listed


def test_truncated_report_falls_back_to_the_log(tricky_tree: Path):
    output, report = run_pytest(INTERPRETERS["venv"], tricky_tree)
    assert report
    statuses = PytestParser().parse(output, report[: len(report) // 2])
    assert statuses["tests/sub/test_tricky.py::test_setup_err"] == "error"
