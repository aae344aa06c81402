"""Which files decide a verdict, and so are never taken from the patch.

A patch is untrusted: an agent that adds a `conftest.py` marking every test passed, edits the
failing test, or rewrites the test command's script would otherwise "resolve" anything (and
evolve's children would learn to do exactly that). Before the tests run, validation puts
every such file back as it was in the snapshot (a new one is removed) and names them in the
verdict. What counts:

- test files: `test_*.py`, `*_test.py`, `tests.py`, and any file under a `test/`, `tests/` or
  `testing/` directory;
- what configures or hooks into the test run: `conftest.py`, `pytest.ini`, `tox.ini`,
  `setup.cfg`, `pyproject.toml`, `setup.py`, `noxfile.py`, `.coveragerc`, `sitecustomize.py`,
  `usercustomize.py`, any `*.pth`;
- what could stand in for the test runner or load a plugin into it: a top-level `pytest.py`,
  `py.py`, `pytest/`, `_pytest/` or `pluggy/` (found before the installed pytest when the working
  directory is on `sys.path`, as with `python -m pytest`), and anything in a `*.dist-info` or
  `*.egg-info` directory (a `pytest11` entry point there is a plugin pytest loads by itself);
- the grader's own scratch directory (`.selfcoder-validate/`: patch files, reports, canaries);
- the test command's own files: every word of `test_cmd` that names a file in the repository
  (`./run_tests.sh`, `bin/test`, `tests/runtests.py`).

For an official SWE-bench instance (one with a `test_patch`), the official harness resets only
the files the test patch touches, so a patch's change to another test file or to `setup.cfg`,
`setup.py`, `pyproject.toml`, ... is tested: grading it otherwise would grade gold patches that
touch such files differently from the leaderboard. There `verdict_files(official=True)` keeps
only what could swap the test runner or load code into it before any test runs (`RUNNER_NAMES`,
`*.pth`, `is_runner_file`, the test command's own files): security matters more than fidelity
there, and no gold patch needs them. The canaries and the diff scan (canary.py, tamper.py) stay
for every instance.
"""

from __future__ import annotations

import shlex
from pathlib import PurePosixPath

from selfcoder.core.errors import SelfcoderError
from selfcoder.core.patch_paths import parse_changes
from selfcoder.validate.workspace import SCRATCH

TEST_DIRS = {"test", "tests", "testing"}
CONFIG_NAMES = {"conftest.py", "pytest.ini", "tox.ini", "setup.cfg", "pyproject.toml", "setup.py", "noxfile.py",
                ".coveragerc", "sitecustomize.py", "usercustomize.py"}
RUNNER_NAMES = {"conftest.py", "sitecustomize.py", "usercustomize.py"}  # imported by pytest / Python itself
RUNNER_TOP = {"pytest.py", "py.py", "pytest", "_pytest", "pluggy"}  # first path component
METADATA_SUFFIXES = (".dist-info", ".egg-info")
# what the user is told of `new_test_files`, beside the patch (solve's summary, the editor's review)
REPRODUCTION_NOTE = "reproduction test written by the agent (not counted in the verdict)"


def is_runner_file(path: str) -> bool:
    """Could this file change which test runner or plugins run (rather than what is tested)?"""
    parts = PurePosixPath(path.removeprefix("./")).parts
    if not parts:
        return False
    return (parts[0] in RUNNER_TOP or parts[0] == SCRATCH
            or any(part.endswith(METADATA_SUFFIXES) for part in parts[:-1]))


def is_test_module(path: str) -> bool:
    """A file named as a test module (not a helper beside the tests)."""
    name = PurePosixPath(path).name
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py") or name == "tests.py")


def is_test_file(path: str) -> bool:
    return any(part in TEST_DIRS for part in PurePosixPath(path).parts[:-1]) or is_test_module(path)


def command_files(test_cmd: str) -> set[str]:
    """Repository-relative paths that the test command names (its scripts)."""
    try:
        words = shlex.split(test_cmd)
    except ValueError:
        words = test_cmd.split()
    found = set()
    for word in words:
        if word.startswith("-") or "=" in word or word.startswith("/"):
            continue
        path = PurePosixPath(word)
        if ".." in path.parts:
            continue
        rel = str(path).removeprefix("./")
        if "/" in rel or "." in rel:
            found.add(rel)
    return found


def verdict_files(paths: list[str], test_cmd: str, *, official: bool = False) -> list[str]:
    """Those of `paths` (what a patch touches) that must come from the snapshot, not the patch;
    `official`: only those that could swap the runner (an official instance, see above)."""
    script = command_files(test_cmd)
    keep = []
    for path in paths:
        name = PurePosixPath(path).name
        runner = name in RUNNER_NAMES or name.endswith(".pth") or is_runner_file(path) or path.removeprefix("./") in script
        if runner or (not official and (is_test_file(path) or name in CONFIG_NAMES)):
            keep.append(path)
    return keep


def new_test_files(patch: str) -> list[str]:
    """The test modules a patch creates (`test_*.py`, `*_test.py`, `tests.py`): an agent's own
    reproduction tests. They never count in a verdict: validation removes them before the tests
    run (an official instance keeps them, but only the tests it names count). The user is shown
    them beside the patch, which still holds them."""
    try:
        changes = parse_changes(patch)
    except SelfcoderError:
        return []  # a patch with an unsafe path: validation and apply refuse it, naming why
    return [c.path for c in changes if c.kind == "create" and is_test_module(c.path)]
