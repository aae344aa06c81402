"""What validation takes (`ValidationTask`) and what it returns (`Verdict`).

The verdict is written as the run dir's `validation.json`, read by the runner, eval
reports and the language server, so its shape is stable: a status, how the patch was
applied, every test's status per run (before / after the patch), and the FAIL_TO_PASS /
PASS_TO_PASS success and failure lists in SWE-bench's report shape, and, for a `suspicious`
run, why its report cannot be trusted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

TestStatus = Literal["passed", "failed", "error", "skipped"]
# suspicious: the tests ran, but the run shows signs of a patch rewriting the test run or its report
# (`suspicious` lists them); never resolved, whatever the report says.
VerdictStatus = Literal["resolved", "unresolved", "suspicious", "patch_failed", "test_cmd_failed", "error"]
Phase = Literal["before", "after"]

DEFAULT_TEST_CMD = "python3 -m pytest -q"


class ValidationTask(BaseModel):
    """The repository snapshot, how to run its tests, and which tests decide the verdict.

    With both `fail_to_pass` and `pass_to_pass` named, only the suite with the patch runs
    (SWE-bench). Otherwise the suite also runs without the patch ("before"), and the
    unnamed lists come from it: FAIL_TO_PASS = tests that failed before (plus tests new
    after), PASS_TO_PASS = tests that passed before.
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    source: Path  # directory, git repository or tarball
    commit: str | None = None
    test_cmd: str | None = None  # None: DEFAULT_TEST_CMD
    fail_to_pass: list[str] = Field(default_factory=list)
    pass_to_pass: list[str] = Field(default_factory=list)
    test_patch: str | None = None  # applied before the tests run, as in SWE-bench
    log_parser: str | None = None  # a name in `selfcoder.validate.parsers`; None: chosen from test_cmd
    # which of the patch's files are put back before the tests (protected.py): "strict" = every test
    # file and test configuration; "official" = as the SWE-bench harness (only the test patch's files),
    # except what could swap the test runner
    reset: Literal["strict", "official"] = "strict"

    @property
    def command(self) -> str:
        return (self.test_cmd or "").strip() or DEFAULT_TEST_CMD

    @property
    def needs_before_run(self) -> bool:
        return not (self.fail_to_pass and self.pass_to_pass)


class TestRun(BaseModel):
    """One run of the test command."""

    phase: Phase
    command: str
    parser: str
    exit_code: int
    timed_out: bool = False
    duration_s: float
    tests: dict[str, TestStatus] = Field(default_factory=dict)
    canaries: dict[str, TestStatus] = Field(default_factory=dict)  # the grader's, not in `tests` (canary.py)
    log_tail: str = ""
    output: str = Field("", exclude=True)  # the whole output (as the sandbox kept it), for eval's logs; not in validation.json


class TestsReport(BaseModel):
    """SWE-bench's `{"success": [...], "failure": [...]}`."""

    success: list[str] = Field(default_factory=list)
    failure: list[str] = Field(default_factory=list)


class Verdict(BaseModel):
    status: VerdictStatus
    message: str = ""
    apply_method: str | None = None  # "git apply" | "git apply --3way" | "patch --fuzz"
    apply_log: str = ""  # what the patch tools said (every attempt when none worked)
    test_patch_method: str | None = None
    restored_files: list[str] = Field(default_factory=list)  # the patch's changes to these were not tested
    reproduction: dict[str, str] = Field(default_factory=dict)  # the agent's new tests: "fails before, passes after"; never decides
    suspicious: list[str] = Field(default_factory=list)  # why the run cannot be trusted: diff lines, canaries
    mode: Literal["named", "before_after"] = "named"
    tests: dict[Phase, dict[str, TestStatus]] = Field(default_factory=dict)
    fail_to_pass: TestsReport = Field(default_factory=TestsReport)
    pass_to_pass: TestsReport = Field(default_factory=TestsReport)
    runs: list[TestRun] = Field(default_factory=list)
    durations_s: dict[str, float] = Field(default_factory=dict)

    @property
    def resolved(self) -> bool:
        return self.status == "resolved"

    def run(self, phase: Phase) -> TestRun | None:
        return next((r for r in self.runs if r.phase == phase), None)

    def to_json(self) -> dict:
        return self.model_dump(mode="json")

    def swebench_report(self, instance_id: str) -> dict:
        """The per-instance report the official SWE-bench harness writes (report.json)."""
        return {
            instance_id: {
                "patch_is_None": False,
                "patch_exists": self.status != "patch_failed" or "empty" not in self.message,
                "patch_successfully_applied": self.apply_method is not None,
                "resolved": self.resolved,
                "tests_status": {
                    "FAIL_TO_PASS": self.fail_to_pass.model_dump(),
                    "PASS_TO_PASS": self.pass_to_pass.model_dump(),
                    "FAIL_TO_FAIL": {"success": [], "failure": []},
                    "PASS_TO_FAIL": {"success": [], "failure": []},
                },
            }
        }
