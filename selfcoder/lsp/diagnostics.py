"""Test results as diagnostics: where the tests failed, at file and line, source `selfcoder`.

Read from the verdict of a run (the test run with the patch; the run without it when that is
all there is): every failing test at its location (a `path:line:` line of pytest's report or a
traceback frame of that file, else its `def`), and every traceback frame in the log that lies in
the folder. The log is output of untrusted code: paths are kept only when they name a file of
the folder, and messages are shown with control characters escaped.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from lsprotocol import types

from selfcoder.core.safe_text import visible
from selfcoder.sandbox.base import WORKDIR

SOURCE = "selfcoder"
MAX_PER_FILE = 50
_PYTEST_LOC = re.compile(r"^(?P<path>[^\s:]+\.py):(?P<line>\d+): (?P<what>.*)$")
_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)')
_SUMMARY = re.compile(r"^(?:FAILED|ERROR) (?P<test>\S+)(?: - (?P<why>.*))?$")


def _rel(folder: Path, path: str) -> str | None:
    """The folder-relative path of a path the log names, or None when it is not a file of the folder."""
    for prefix in (WORKDIR + "/", "./"):
        if path.startswith(prefix):
            path = path[len(prefix):]
    if path.startswith("/") or ".." in Path(path).parts:
        return None
    full = folder / path
    return path if full.is_file() and not full.is_symlink() else None


def _def_line(folder: Path, rel: str, test_id: str) -> int:
    """0-based line of the test's `def` (parametrised ids included), else 0."""
    name = test_id.split("::")[-1].split("[")[0]
    try:
        lines = (folder / rel).read_text(errors="replace").splitlines()
    except OSError:
        return 0
    pattern = re.compile(rf"^\s*(async\s+)?def {re.escape(name)}\b")
    return next((i for i, line in enumerate(lines) if pattern.match(line)), 0)


def _diag(line: int, message: str, severity=types.DiagnosticSeverity.Error, code: str | None = None) -> types.Diagnostic:
    line = max(line, 0)
    return types.Diagnostic(range=types.Range(start=types.Position(line=line, character=0),
                                              end=types.Position(line=line + 1, character=0)),
                            message=visible(message)[:2000], severity=severity, source=SOURCE, code=code)


def verdict_diagnostics(folder: Path, verdict: Any) -> dict[str, list[types.Diagnostic]]:
    """rel path → diagnostics, from a `selfcoder.validate.Verdict` (None: nothing)."""
    if verdict is None or not verdict.runs:
        return {}
    run = verdict.run("after") or verdict.runs[-1]
    log = run.log_tail.splitlines()
    out: dict[str, list[types.Diagnostic]] = {}
    seen: set[tuple[str, int]] = set()

    def add(rel: str, line: int, message: str, **kw) -> None:
        if (rel, line) in seen or len(out.get(rel, [])) >= MAX_PER_FILE:
            return
        seen.add((rel, line))
        out.setdefault(rel, []).append(_diag(line, message, **kw))

    why: dict[str, str] = {}
    for text in log:
        match = _SUMMARY.match(text.strip())
        if match and match.group("why"):
            why[match.group("test")] = match.group("why")
    failing = [t for t, status in run.tests.items() if status in ("failed", "error")]
    for test in failing:
        rel = _rel(folder, test.split("::")[0])
        if rel is None:
            continue
        line = None
        for text in log:  # pytest's long report: "tests/test_x.py:12: AssertionError"
            match = _PYTEST_LOC.match(text.strip())
            if match and _rel(folder, match.group("path")) == rel:
                line = int(match.group("line")) - 1
                break
        if line is None:
            line = _def_line(folder, rel, test)
        add(rel, line, f"{test} {run.tests[test]}" + (f": {why[test]}" if test in why else ""), code=test)
    for i, text in enumerate(log):  # traceback frames and pytest locations in the folder's files
        match = _FRAME.match(text) or _PYTEST_LOC.match(text.strip())
        if not match:
            continue
        rel = _rel(folder, match.group("path"))
        if rel is None:
            continue
        detail = match.groupdict().get("what") or (log[i + 1].strip() if i + 1 < len(log) else "")
        add(rel, int(match.group("line")) - 1, f"in the failing test run: {detail}",
            severity=types.DiagnosticSeverity.Information)
    return out
