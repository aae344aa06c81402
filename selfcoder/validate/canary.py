"""Canary tests and a safe interpreter start for the pytest runs of a validation.

Tests run in one process with the code they import, so a patch can rewrite how pytest reports
(`TestReport`, the JUnit writer, ...) from any module the tests import, and no report read
afterwards is proof of anything. What the grader can do is make forging visible: after the
patch is applied it plants two tests whose file and names are random (one must pass, one must
fail) and has them collected in the same run through a plugin of an equally random name. A
forger that marks failures passed, or drops tests it does not know, shows on them; one that
forges exactly the task's tests must have read the grader's files at run time, which the diff
scan (`tamper.py`) looks for.

The same plugin keeps the working directory from shadowing the runner: `python -m pytest` and
`pytest` start with `PYTHONSAFEPATH=1` (Python 3.11+), so the real pytest is imported before
anything of the repository; the plugin then puts the working directory back on `sys.path` as
Python would have, and clears the variable for the processes the tests start. Older
interpreters ignore the variable: there the files that could shadow the runner are kept as in
the snapshot (`protected.py`).
"""

from __future__ import annotations

import re
import secrets
import shlex
from dataclasses import dataclass

from selfcoder.sandbox.base import WORKDIR, Sandbox
from selfcoder.validate.verdict import TestStatus

_PLUGIN = '''"""selfcoder's grader plugin: canary tests and a safe start (selfcoder/validate/canary.py)."""
import os
import sys

import pytest

_CANARY = {canary!r}
_NAMES = {names!r}
_ACTIVE = os.environ.pop({active!r}, None) is not None  # only the first pytest of the command

if os.environ.pop("PYTHONSAFEPATH", None) is not None and getattr(sys.flags, "safe_path", False):
    _main = sys.argv[0] if sys.argv else ""
    if os.path.basename(_main) == "__main__.py" or _main in ("", "-c"):
        sys.path.insert(0, os.getcwd())
    else:
        sys.path.insert(0, os.path.dirname(os.path.abspath(_main)))


def pytest_sessionstart(session):
    if _ACTIVE and isinstance(getattr(session.config, "args", None), list):
        session.config.args.append(_CANARY)


def _is_canary(item):
    return item.nodeid.rsplit("::", 1)[-1] in _NAMES


@pytest.hookimpl(hookwrapper=True)
def pytest_collection_modifyitems(session, config, items):
    canaries = [i for i in items if _is_canary(i)]
    yield
    if canaries:  # last (a -x run stops at the failing one), and back when -k or -m deselected them
        items[:] = [i for i in items if not _is_canary(i)] + sorted(canaries, key=lambda i: _NAMES.index(
            i.nodeid.rsplit("::", 1)[-1]))
'''

_CANARY = '''def {passing}():
    assert {a} + {a} == {twice}


def {failing}():
    assert {a} + {a} == {wrong}
'''

# POSIX shell functions: the interpreter that runs pytest at the top of the test command starts
# without the working directory on sys.path, and finds the plugin whatever PYTHONPATH became.
_SAFE_START = (
    "__sc_py() {{ __sc_bin=$1; shift; if [ \"$1\" = -m ] && [ \"$2\" = pytest ]; then "
    "PYTHONSAFEPATH=1 PYTHONPATH={dir}${{PYTHONPATH:+:$PYTHONPATH}} command \"$__sc_bin\" \"$@\"; "
    "else command \"$__sc_bin\" \"$@\"; fi; }}; "
    "python() {{ __sc_py python \"$@\"; }}; python3() {{ __sc_py python3 \"$@\"; }}; "
    "pytest() {{ PYTHONSAFEPATH=1 PYTHONPATH={dir}${{PYTHONPATH:+:$PYTHONPATH}} command pytest \"$@\"; }}; "
)
_STOPPED = re.compile(r"stopping after \d+ failures?|Interrupted: \d+ errors? during collection")


def _name(prefix: str) -> str:
    return prefix + secrets.token_hex(6)


@dataclass
class Canaries:
    """One test run's canaries: where they are and what they are called (all random)."""

    directory: str  # relative to the workspace
    module: str  # the plugin's module name
    passing: str
    failing: str

    @classmethod
    def new(cls, scratch: str) -> "Canaries":
        return cls(f"{scratch}/{_name('c')}", _name("m"), _name("test_"), _name("test_"))

    @property
    def active_var(self) -> str:
        return "C" + self.module.upper()

    def plant(self, sb: Sandbox) -> None:
        """Write the plugin and the canary file (after the patch: it cannot know the names)."""
        a = secrets.randbelow(900) + 100
        canary_file = f"{self.directory}/{_name('test_')}.py"
        sb.write_file(canary_file, _CANARY.format(passing=self.passing, failing=self.failing, a=a, twice=2 * a,
                                                  wrong=2 * a + 1 + secrets.randbelow(9)))
        sb.write_file(f"{self.directory}/{self.module}.py", _PLUGIN.format(
            canary=f"{WORKDIR}/{canary_file}", names=[self.passing, self.failing], active=self.active_var))

    def env(self, env: dict[str, str]) -> dict[str, str]:
        """`env` (the parser's, with PYTEST_ADDOPTS) plus what loads the plugin."""
        opts = env.get("PYTEST_ADDOPTS", "")
        return {**env, "PYTEST_ADDOPTS": f"-p {self.module} {opts}".strip(), self.active_var: "1",
                "PYTHONPATH": f"{WORKDIR}/{self.directory}"}

    def command(self, command: str) -> str:
        return _SAFE_START.format(dir=shlex.quote(f"{WORKDIR}/{self.directory}")) + command

    def take(self, tests: dict[str, TestStatus], log: str
             ) -> tuple[dict[str, TestStatus], dict[str, TestStatus], list[str]]:
        """The run's statuses without the canaries, the canaries' (by name: `pass` / `fail`), and
        what the canaries say is wrong with the run."""
        found: dict[str, TestStatus] = {}
        rest: dict[str, TestStatus] = {}
        for test_id, status in tests.items():
            name = test_id.rsplit("::", 1)[-1].split("[", 1)[0]
            if name in (self.passing, self.failing):
                found[name] = status
            else:
                rest[test_id] = status
        problems = []
        if found.get(self.failing) == "passed":
            problems.append("a canary test that must fail was reported passed: the test report was forged")
        if found.get(self.passing) not in (None, "passed"):
            problems.append(f"a canary test that must pass was reported {found[self.passing]}")
        missing = [n for n in (self.passing, self.failing) if n not in found]
        stopped = _STOPPED.search(log) and any(s in ("failed", "error") for s in rest.values())
        if missing and rest and not stopped:
            problems.append(f"{len(missing)} of the 2 canary tests planted in the run are missing from its report: "
                            "the test run or its report was tampered with")
        shown: dict[str, TestStatus] = {role: found[n] for role, n in (("pass", self.passing), ("fail", self.failing))
                                        if n in found}
        return rest, shown, problems
