"""Grade one prediction: the patch in a fresh sandbox, the instance's tests, the official rule.

The steps are selfcoder.validate's (apply fallback chain `git apply` → `git apply --3way` →
`patch --fuzz`; the files the test patch touches put back, the test patch on top — for an
official instance, as the official harness does, and the files that could swap the test runner
(conftest.py, a stand-in pytest, *.dist-info, *.pth) also from the snapshot; for selfcoder's own
tasks (no test patch) every test file and test configuration from the snapshot; the test command
with the instance's log parser; the canaries and the diff scan for all); the decision is the
official harness's (`official_rule.py`), taken from the status map of the run with the patch:

- `resolved`: RESOLVED_FULL;
- `unresolved`: the tests ran and did not all succeed (PARTIAL counts here, as officially),
  or the log cannot be trusted (non-zero exit with no failing test; a `suspicious` verdict:
  the patch reaches into the test run or forged its report, `suspicious` says how);
- `empty_patch`: nothing to apply;
- `error`: the patch or test patch does not apply, the test command cannot run, the test run
  timed out (the official harness raises an EvaluationError there: the tests that had not run
  yet are no verdict on the patch), the environment is missing, the sandbox failed (the
  official harness's `error_ids`).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass, field

from selfcoder.core.cancel import Cancelled, CancelToken
from selfcoder.eval import official_rule
from selfcoder.eval.environments import Environment
from selfcoder.eval.tasks import log_parser_of, test_cmd_of
from selfcoder.sandbox.base import Limits, SandboxSpec
from selfcoder.core.task import Task
from selfcoder.validate import ValidationTask, validate
from selfcoder.validate.parsers import SweParser, get_parser, register_parser

OUTCOMES = ("resolved", "unresolved", "empty_patch", "error")


@dataclass
class InstanceGrade:
    outcome: str
    message: str = ""
    resolution: str | None = None  # RESOLVED_FULL | RESOLVED_PARTIAL | RESOLVED_NO
    tests_status: dict = field(default_factory=dict)
    verdict_status: str | None = None  # `suspicious`: never resolved, whatever the tests say
    suspicious: list[str] = field(default_factory=list)
    apply_method: str | None = None
    parser: str | None = None  # `swebench:<repo>`: the official package's log parser
    grading: str | None = None  # `swebench <version>` (its grading functions) or `selfcoder`
    test_s: float = 0.0  # the test command itself
    duration_s: float = 0.0  # everything: sandbox, apply, tests
    # {"apply": text, "test": text}, each bounded (`bounded`); the result store writes them as files
    # (OUT/logs/<id>/apply.log, test.log) and keeps their paths in the record instead
    logs: dict[str, str] = field(default_factory=dict)
    environment: str = ""  # which spec the test environment was built from (official_specs.py)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


_official_lock = threading.Lock()
LOG_HEAD_CHARS = LOG_TAIL_CHARS = 500_000  # a log keeps its first and last half megabyte


def bounded(text: str, head: int = LOG_HEAD_CHARS, tail: int = LOG_TAIL_CHARS) -> str:
    """`text`, or its head and tail with a line saying how much was left out between them: the start
    says what ran, the end how it ended (a timeout, the summary), both are needed to read a log."""
    if len(text) <= head + tail:
        return text
    return f"{text[:head]}\n[... {len(text) - head - tail} characters left out ...]\n{text[-tail:]}"


def _logs(verdict) -> dict[str, str]:
    """The patch application (every method tried, what was put back, the test patch) and the test
    runs' output, as the instance's logs."""
    apply = [f"patch: {'applied with ' + verdict.apply_method if verdict.apply_method else 'does not apply'}",
             verdict.apply_log.rstrip()]
    if verdict.restored_files:
        apply.append("put back as in the snapshot (the patch's changes to them were not tested): "
                     + ", ".join(verdict.restored_files))
    if verdict.test_patch_method or verdict.status == "error":
        apply.append(f"test patch: {'applied with ' + verdict.test_patch_method if verdict.test_patch_method else 'not applied'}")
    runs = [f"$ {run.command}  [{run.phase} the patch: exit {run.exit_code}"
            f"{', timed out' if run.timed_out else ''}, {run.duration_s:g} s]\n{run.output}" for run in verdict.runs]
    logs = {"apply": bounded("\n".join(part for part in apply if part) + "\n")}
    if runs:
        logs["test"] = bounded("\n".join(runs))
    return logs


def official_parser_name(repo: str) -> str | None:
    """`swebench:<repo>`, registered on first use, when the swebench package covers `repo`."""
    if not repo or official_rule.official_module() is None:
        return None
    try:  # swebench 5.x: PARSER_REGISTRY is keyed by parser name, this maps repositories to parsers
        from swebench.harness.log_parsers.python import MAP_REPO_TO_PARSER_PY as PARSER_REGISTRY
    except ImportError:
        return None
    if repo not in PARSER_REGISTRY:
        return None
    name = f"swebench:{repo}"
    with _official_lock:
        try:
            get_parser(name)
        except Exception:  # noqa: BLE001 - not registered yet
            fn = PARSER_REGISTRY[repo]
            from selfcoder.validate.swe_logs import REPO_PARSERS, SWE_PARSERS

            summary = SWE_PARSERS.get(REPO_PARSERS.get(repo, ""), (None, True))[1]
            register_parser(SweParser(name, lambda log, fn=fn: fn(log, None), summary))
    return name


def parser_name(task: Task, official: bool | None = None) -> str | None:
    if official is not False and not (task.model_extra or {}).get("log_parser"):
        name = official_parser_name(task.repo)
        if name:
            return name
    return log_parser_of(task)


def grade_instance(task: Task, patch: str | None, *, backend: str = "local", limits: Limits | None = None,
                   environment: Environment | None = None, cancel: CancelToken | None = None,
                   official: bool | None = None) -> InstanceGrade:
    """Grade `patch` for `task`. Raises `Cancelled` when `cancel` fired meanwhile."""
    started = time.monotonic()
    if not (patch or "").strip():
        return InstanceGrade(outcome="empty_patch", message="the prediction has no patch")
    if task.repo_path is None:
        return InstanceGrade(outcome="error", message=f"task {task.instance_id}: no repo_path")
    env = environment or Environment()
    test_cmd = test_cmd_of(task)
    parser = parser_name(task, official)
    vtask = ValidationTask(
        source=task.repo_path, commit=task.base_commit, test_cmd=env.wrap(test_cmd) if test_cmd else None,
        fail_to_pass=task.fail_to_pass, pass_to_pass=task.pass_to_pass, test_patch=task.test_patch,
        log_parser=parser,
        # an official instance is graded as the official harness does: only the test patch's files
        # are reset, the runner-swap protections stay (validate/protected.py); selfcoder's own tasks
        # (no test patch) keep the stricter rule
        reset="official" if (task.test_patch or "").strip() else "strict",
    )

    def open_with_env(spec: SandboxSpec, backend_name: str):
        from selfcoder.sandbox import open_sandbox

        return open_sandbox(dataclasses.replace(spec, mounts=[*spec.mounts, *env.mounts]), backend_name)

    verdict = validate(vtask, patch or "", backend=backend, limits=limits, open_sandbox=open_with_env,
                       run_id=f"eval-{task.instance_id[:40]}", cancel=cancel)
    if cancel is not None and cancel.cancelled:
        raise Cancelled(cancel.reason or "cancelled")
    grade = InstanceGrade(outcome="error", verdict_status=verdict.status, apply_method=verdict.apply_method,
                          parser=parser, message=verdict.message, suspicious=list(verdict.suspicious),
                          logs=_logs(verdict), environment=env.source)
    after = verdict.run("after")
    grade.test_s = round(sum(r.duration_s for r in verdict.runs), 3)
    grade.duration_s = round(time.monotonic() - started, 3)
    if verdict.status in ("patch_failed", "error") or after is None:
        return grade
    if verdict.status == "test_cmd_failed":
        return grade
    if after.timed_out:
        grade.message = f"the test run timed out after {(limits or Limits()).timeout_s:g} s"
        return grade
    fail_to_pass = task.fail_to_pass or verdict.fail_to_pass.success + verdict.fail_to_pass.failure
    pass_to_pass = task.pass_to_pass or verdict.pass_to_pass.success + verdict.pass_to_pass.failure
    grade.tests_status = official_rule.tests_report(after.tests, fail_to_pass, pass_to_pass, official=official)
    grade.resolution = official_rule.resolution_status(grade.tests_status)
    grade.grading = official_rule.grader_name(official)
    if official_rule.inconsistent_exit(after.exit_code, {**after.tests, **after.canaries}):  # one canary fails
        grade.resolution = official_rule.NO
        grade.message = f"the test command failed (exit {after.exit_code}) but reported no failing test"
    if verdict.status == "suspicious":
        grade.resolution, grade.message = official_rule.NO, verdict.message
    grade.outcome = "resolved" if grade.resolution == official_rule.FULL else "unresolved"
    if grade.outcome == "resolved":
        n = len(fail_to_pass)
        grade.message = f"{n} FAIL_TO_PASS pass, {len(pass_to_pass)} PASS_TO_PASS still pass"
    return grade
