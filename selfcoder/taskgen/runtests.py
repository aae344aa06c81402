"""Run a project's tests in a fresh sandbox, optionally with some files replaced (a mutant), and
read every test's status and each failure's message.

The same steps as validation's test run (selfcoder/validate/validator.py): the task's test
command wrapped by its environment, the log parser's report (pytest's JUnit XML), node ids as
test ids; so the FAIL_TO_PASS / PASS_TO_PASS found here are the ids grading will look for.
The failure messages (JUnit `message` attributes: the exception line and pytest's assertion
explanation, never a code diff) feed the problem statement.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from selfcoder.core.errors import SelfcoderError
from selfcoder.eval.environments import Environment
from selfcoder.sandbox.base import WORKDIR, Limits, SandboxSpec
from selfcoder.validate.junit import testcase_id
from selfcoder.validate.parsers import parser_for

REPORT = ".selfcoder-taskgen/report.xml"
MESSAGE_CHARS = 1500


@dataclass
class TestOutcome:
    statuses: dict[str, str] = field(default_factory=dict)  # test id -> passed|failed|error|skipped
    messages: dict[str, str] = field(default_factory=dict)  # failing test id -> its failure message
    exit_code: int | None = None
    timed_out: bool = False
    duration_s: float = 0.0
    log_tail: str = ""

    def with_status(self, *wanted: str) -> list[str]:
        return sorted(t for t, s in self.statuses.items() if s in wanted)


FRAME = re.compile(r"^(\S+\.py):\d+: in \S+$")  # a frame header of pytest's --tb=short


def _is_test_path(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return (name.startswith("test") or name.endswith("_test.py") or name == "conftest.py"
            or any(part in ("tests", "test", "testing") for part in path.split("/")[:-1]))


def tests_side(traceback: str) -> str:
    """What a failure shows from the tests' side: the test frames (the call that failed) and the
    error lines (`E   ...`). Frames in the library are left out: their code line may be the very
    line a mutation changed, and a statement must not show it."""
    keep, in_test = [], False
    for line in traceback.splitlines():
        header = FRAME.match(line)
        if header:
            in_test = _is_test_path(header.group(1))
            if in_test:
                keep.append(line)
        elif line.startswith("E ") or line == "E":
            keep.append(line)
            in_test = False
        elif in_test and line.strip():
            keep.append(line)
    return "\n".join(keep)


def failure_messages(report: bytes, known_files: list[str]) -> dict[str, str]:
    """{test id: message} for every failed or errored testcase of a JUnit report: the test's side
    of the traceback (`tests_side`), else the report's one-line message."""
    known = {p[:-3].replace("/", "."): p for p in known_files}
    out: dict[str, str] = {}
    try:
        root = ET.fromstring(report)
    except ET.ParseError:
        return out
    for case in root.iter("testcase"):
        for child in case:
            if child.tag in ("failure", "error"):
                test_id = testcase_id(case.get("classname", ""), case.get("name", ""), case.get("file"), known)
                text = tests_side(child.text or "") or child.get("message") or ""
                out.setdefault(test_id, text.strip()[-MESSAGE_CHARS:])
    return out


class TestRunner:
    """Runs `test_cmd` on snapshots of the git repository `repo` (its HEAD) with `environment`."""

    def __init__(self, repo: Path, test_cmd: str, *, environment: Environment | None = None, limits: Limits,
                 backend: str = "local", log_parser: str = "pytest", known_files: list[str] = ()):
        self.repo, self.test_cmd, self.env = Path(repo), test_cmd, environment or Environment()
        self.limits, self.backend = limits, backend
        self.parser = parser_for(test_cmd, log_parser)
        self.known_files = list(known_files)

    def run(self, files: dict[str, str] | None = None, *, timeout: float | None = None, label: str = "") -> TestOutcome:
        """The tests on the snapshot with `files` ({path: new text}) written over it."""
        from selfcoder.sandbox import open_sandbox

        spec = SandboxSpec(source=self.repo, limits=self.limits, mounts=list(self.env.mounts),
                           run_id=f"taskgen-{label or 'run'}-{uuid.uuid4().hex[:6]}")
        with open_sandbox(spec, self.backend) as sb:
            for rel, text in (files or {}).items():
                sb.write_file(rel, text)
            env = self.parser.env(f"{WORKDIR}/{REPORT}") if self.parser.wants_report else {}
            res = sb.run(self.env.wrap(self.test_cmd), timeout=timeout or self.limits.timeout_s, env=env)
            report = None
            if self.parser.wants_report:
                try:
                    report = sb.read_file(REPORT)
                except (OSError, SelfcoderError):
                    report = None
        outcome = TestOutcome(exit_code=res.exit_code, timed_out=res.timed_out, duration_s=round(res.duration_s, 3),
                              log_tail=res.output[-4000:])
        outcome.statuses = dict(self.parser.parse(res.output, report, self.known_files))
        if report:
            outcome.messages = failure_messages(report, self.known_files)
        return outcome


def default_test_cmd(tests: list[str]) -> str:
    """pytest on the project's test paths: no cache written, short tracebacks, the -rA summary;
    a fixed hash seed, so that test ids built from set or dict order are the same in every run."""
    return "PYTHONHASHSEED=0 python3 -m pytest -p no:cacheprovider -rA --tb=short " + shlex.join(tests)


def with_output_room(limits: Limits) -> Limits:
    """A test log is cut past output_bytes; keep whole logs (one line per test with -rA)."""
    return dataclasses.replace(limits, output_bytes=max(limits.output_bytes, 16_000_000))
