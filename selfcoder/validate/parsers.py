"""Turning a test run into `{test_id: status}`: a registry of parsers by name.

- `pytest`: reads the JUnit XML that pytest writes (asked for through PYTEST_ADDOPTS, so
  it works for any command that ends up running pytest), node ids as test ids; falls back
  to the `FAILED id` / `ERROR id` summary lines of the log when no XML was written.
- `tap`: Test Anything Protocol lines, `ok 1 - name`, `not ok 2 - name # SKIP ...`.
- `lines`: one status word per line: `PASS: name` (automake), `--- FAIL: name` (go test),
  `name ... ok` (unittest -v).
- `auto`: `tap` if the output has TAP lines, else `lines` (the default for non-pytest commands).
- the SWE-bench runners (`swe_logs.py`): `pytest-ra`, `pytest-v2`, `pytest-options`, `matplotlib`,
  `seaborn` (pytest's `-rA` summary, asked for through PYTEST_ADDOPTS), `django` (runtests.py),
  `unittest` (`python -m unittest -v`), `sympy` (bin/test): the official harness's semantics,
  XFAIL counted as passed as every official rule does.

A new runner gets support by `register_parser(MyParser())`.
"""

from __future__ import annotations

import re
import shlex
from typing import Iterable, Mapping

from selfcoder.core.errors import SelfcoderError
from selfcoder.validate.junit import merge_status, parse_junit
from selfcoder.validate.swe_logs import SWE_PARSERS, to_test_statuses
from selfcoder.validate.verdict import TestStatus


class LogParser:
    """Base class: `env()` adds variables to the test command; `parse()` reads its results."""

    name = "base"
    wants_report = False  # True: the command writes a report file whose path `env()` is given

    def env(self, report_path: str) -> dict[str, str]:
        return {}

    def parse(self, output: str, report: bytes | None = None, known_files: Iterable[str] = ()) -> dict[str, TestStatus]:
        raise NotImplementedError


class PytestParser(LogParser):
    name = "pytest"
    wants_report = True
    _SUMMARY = re.compile(r"^(PASSED|FAILED|ERROR|XFAIL|XPASS|SKIPPED) (\S+::\S+|\S+\.py)(?: - .*)?$")
    _FROM_SUMMARY: Mapping[str, TestStatus] = {
        "PASSED": "passed", "XPASS": "passed", "FAILED": "failed",
        "ERROR": "error", "XFAIL": "skipped", "SKIPPED": "skipped",
    }

    def env(self, report_path: str) -> dict[str, str]:
        # xunit1 adds the `file` attribute that node ids are rebuilt from; collection errors
        # must not hide every other test's result.
        opts = [f"--junitxml={report_path}", "-o", "junit_family=xunit1", "--continue-on-collection-errors"]
        return {"PYTEST_ADDOPTS": shlex.join(opts)}

    def parse(self, output: str, report: bytes | None = None, known_files: Iterable[str] = ()) -> dict[str, TestStatus]:
        if report:
            try:
                return parse_junit(report, known_files)
            except Exception:  # a truncated report (killed mid-write): use the log instead
                pass
        statuses: dict[str, TestStatus] = {}
        for line in output.splitlines():
            m = self._SUMMARY.match(line.strip())
            if m:
                merge_status(statuses, m.group(2), self._FROM_SUMMARY[m.group(1)])
        return statuses


def _add_unique(statuses: dict[str, TestStatus], name: str, status: TestStatus) -> None:
    """Tests with the same name in one run keep distinct ids: `name`, `name #2`, ..."""
    key, n = name, 1
    while key in statuses:
        n += 1
        key = f"{name} #{n}"
    statuses[key] = status


class TapParser(LogParser):
    name = "tap"
    _LINE = re.compile(r"^(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?(.*?)\s*$")
    _DIRECTIVE = re.compile(r"\s#\s*(SKIP|TODO)\b.*$", re.IGNORECASE)

    def parse(self, output: str, report: bytes | None = None, known_files: Iterable[str] = ()) -> dict[str, TestStatus]:
        statuses: dict[str, TestStatus] = {}
        for line in output.splitlines():
            m = self._LINE.match(line)  # indented lines are TAP subtests: only top level counts
            if not m:
                continue
            failed, number, description = m.group(1) == "not ok", m.group(2), m.group(3)
            directive = self._DIRECTIVE.search(" " + description)
            if directive:
                description = (" " + description)[: directive.start()].strip()
            name = description or (f"test {number}" if number else f"test {len(statuses) + 1}")
            if directive:  # `# SKIP` and `# TODO` tests do not count either way
                status: TestStatus = "skipped"
            else:
                status = "failed" if failed else "passed"
            _add_unique(statuses, name, status)
        return statuses


class LinesParser(LogParser):
    name = "lines"
    _STATUS: Mapping[str, TestStatus] = {
        "PASS": "passed", "PASSED": "passed", "OK": "passed", "XFAIL": "passed",
        "FAIL": "failed", "FAILED": "failed", "XPASS": "failed",
        "ERROR": "error", "SKIP": "skipped", "SKIPPED": "skipped",
    }
    _PREFIX = re.compile(r"^\s*(?:--- )?(PASS|PASSED|FAIL|FAILED|ERROR|SKIP|SKIPPED|XFAIL|XPASS):?\s+(.+?)(?:\s+\([\d.]+m?s\))?\s*$")
    _SUFFIX = re.compile(r"^(\S.*?) \.\.\. (ok|FAIL|ERROR|skipped.*)$")  # python -m unittest -v

    def parse(self, output: str, report: bytes | None = None, known_files: Iterable[str] = ()) -> dict[str, TestStatus]:
        statuses: dict[str, TestStatus] = {}
        for line in output.splitlines():
            m = self._PREFIX.match(line)
            if m:
                _add_unique(statuses, m.group(2), self._STATUS[m.group(1)])
                continue
            m = self._SUFFIX.match(line)
            if m:
                word = m.group(2).split()[0].upper()
                _add_unique(statuses, m.group(1), self._STATUS.get(word, "skipped"))
        return statuses


class AutoParser(LogParser):
    """TAP when the output has TAP lines, else PASS/FAIL lines."""

    name = "auto"
    _NUMBERED_TAP = re.compile(r"^(not )?ok \d+\b", re.MULTILINE)  # not go test's "ok  pkg 0.1s"

    def parse(self, output: str, report: bytes | None = None, known_files: Iterable[str] = ()) -> dict[str, TestStatus]:
        if self._NUMBERED_TAP.search(output):
            return TapParser().parse(output)
        return LinesParser().parse(output)


class SweParser(LogParser):
    """One of the SWE-bench log parsers (`swe_logs.py`, or the official function itself)."""

    def __init__(self, name: str, parse_log, needs_summary: bool):
        self.name, self._parse_log, self.wants_report = name, parse_log, needs_summary

    def env(self, report_path: str) -> dict[str, str]:
        # pytest prints a PASSED/FAILED line per test only with -rA; no report file is written
        return {"PYTEST_ADDOPTS": "-rA"}

    def parse(self, output: str, report: bytes | None = None, known_files: Iterable[str] = ()) -> dict[str, TestStatus]:
        return to_test_statuses(self._parse_log(output))  # type: ignore[return-value]


_PARSERS: dict[str, LogParser] = {}


def register_parser(parser: LogParser) -> None:
    _PARSERS[parser.name] = parser


for _p in (PytestParser(), TapParser(), LinesParser(), AutoParser()):
    register_parser(_p)
for _name, (_fn, _summary) in SWE_PARSERS.items():
    register_parser(SweParser(_name, _fn, _summary))


def parser_names() -> list[str]:
    return sorted(_PARSERS)


def get_parser(name: str) -> LogParser:
    try:
        return _PARSERS[name]
    except KeyError:
        raise SelfcoderError(f"unknown test log parser '{name}' (known: {', '.join(parser_names())})") from None


def is_pytest_command(cmd: str) -> bool:
    return re.search(r"(^|[\s/;&|(])(py\.test|pytest)(\s|$|;|&|\|)", cmd) is not None


def parser_for(cmd: str, name: str | None = None) -> LogParser:
    """The named parser, else `pytest` for commands that run pytest, else `auto`."""
    if name:
        return get_parser(name)
    return get_parser("pytest" if is_pytest_command(cmd) else "auto")
