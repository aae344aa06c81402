"""`validate()`: does a patch fix the task without breaking anything? Decided in a fresh sandbox.

Steps, all inside one throwaway sandbox of the task's snapshot:
1. checkpoint the snapshot (git), apply the patch with the fallback chain; if nothing
   applies, the verdict is `patch_failed` with what the tools said; then put back every file
   that decides the verdict (tests, conftest.py, test configuration, the test command's
   script: `protected.py`) as the snapshot has it, so a patch cannot fake a pass;
2. with a test patch: put the files it touches back as they were, apply it (SWE-bench);
3. run the test command with the patch ("after"), parse every test's status;
4. when the task does not name both FAIL_TO_PASS and PASS_TO_PASS (or the after run
   reports nothing), reset to the snapshot, apply the test patch, run again ("before");
5. score FAIL_TO_PASS / PASS_TO_PASS (`report.py`) and decide the status. A patch of which step 1
   put every file back (say, only a test the agent wrote to reproduce the problem) is never
   resolved: what it would be resolved for is the snapshot itself. Then, for the user only, the
   test modules the patch adds are run without and with it (`reproduction.py`).

The tests run in one process with the code they import, so their report is only as honest as
that code: a pytest run carries two canary tests planted after the patch (`canary.py`), and the
patch is scanned for code that reaches into the test framework (`tamper.py`). Either tripping
makes the verdict `suspicious` (never resolved), with the offending lines in `Verdict.suspicious`.

Problems of the patch or the repository become a verdict, never an exception; only a bug
here raises. A missing sandbox engine is a verdict with status `error` and its message.
"""

from __future__ import annotations

import shlex
import time
import uuid
from typing import Callable

from selfcoder.core.cancel import CancelToken
from selfcoder.core.errors import SelfcoderError
from selfcoder.sandbox.base import WORKDIR, Limits, Sandbox, SandboxSpec
from selfcoder.validate import workspace as ws
from selfcoder.validate.canary import Canaries
from selfcoder.validate.parsers import LogParser, is_pytest_command, parser_for
from selfcoder.validate.protected import verdict_files
from selfcoder.validate.report import decide, describe
from selfcoder.validate.reproduction import observe
from selfcoder.validate.tamper import scan_patch
from selfcoder.validate.verdict import Phase, TestRun, ValidationTask, Verdict

OpenSandbox = Callable[[SandboxSpec, str], Sandbox]
LOG_TAIL_CHARS = 4000
CANNOT_RUN_CODES = (126, 127)  # not executable, command not found


def _default_open_sandbox(spec: SandboxSpec, backend: str) -> Sandbox:
    from selfcoder.sandbox import open_sandbox

    return open_sandbox(spec, backend)


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip() and not line.startswith("[... ")]
    return lines[-1].strip()[:300] if lines else ""


def run_problem(run: TestRun) -> str | None:
    """Why a run tells nothing about the tests, or None when it does."""
    if run.exit_code in CANNOT_RUN_CODES and not run.timed_out:
        return f"the test command could not run (exit {run.exit_code}): {_last_line(run.log_tail)}"
    if not run.tests and not run.timed_out:
        return (f"the test command reported no tests (exit {run.exit_code}, parser '{run.parser}'): "
                f"{_last_line(run.log_tail)}")
    return None


class _Validation:
    def __init__(self, task: ValidationTask, patch: str, parser: LogParser, limits: Limits):
        self.task, self.patch, self.parser, self.limits = task, patch, parser, limits
        mode = "before_after" if task.needs_before_run else "named"
        self.verdict = Verdict(status="error", mode=mode)
        self.canaries = parser.wants_report and is_pytest_command(task.command)

    def finish(self, status: str, message: str) -> Verdict:
        """The verdict; a run that tripped the diff scan or the canaries is `suspicious` instead."""
        if self.verdict.suspicious and status in ("resolved", "unresolved", "test_cmd_failed"):
            shown = "; ".join(self.verdict.suspicious[:3]) + (" ..." if len(self.verdict.suspicious) > 3 else "")
            status, message = "suspicious", f"not trusted: {shown}; {message}"
        self.verdict.status = status  # type: ignore[assignment]
        self.verdict.message = message
        return self.verdict

    def _timed(self, key: str, started: float) -> None:
        self.verdict.durations_s[key] = round(time.monotonic() - started, 3)

    def run(self, sb: Sandbox) -> Verdict:
        v, task = self.verdict, self.task
        started = time.monotonic()
        base = ws.checkpoint(sb, "selfcoder: snapshot")
        ws.import_blobs(sb, ws.preimage_blobs(task.source, self.patch + "\n" + (task.test_patch or "")))
        applied = ws.apply_patch(sb, ws.write_patch(sb, "model.diff", self.patch), base)
        v.apply_method, v.apply_log = applied.method, applied.log[-6000:]
        if not applied.ok:
            self._timed("apply_s", started)
            return self.finish("patch_failed", "the patch does not apply: " + _last_line(applied.attempts[0][2]))
        v.restored_files = verdict_files(ws.patched_files(self.patch), task.command, official=task.reset == "official")
        ws.restore_files(sb, base, v.restored_files)
        hits = scan_patch(self.patch, skip=set(v.restored_files), old_text=lambda path: ws.read_at(sb, base, path))
        v.suspicious += [f"the patch reaches into the test framework: {hit}" for hit in hits]
        test_patch_path = None
        if task.test_patch and task.test_patch.strip():
            test_patch_path = ws.write_patch(sb, "test.diff", task.test_patch)
            ws.restore_files(sb, base, ws.patched_files(task.test_patch))
            problem = self._apply_test_patch(sb, test_patch_path, ws.checkpoint(sb, "selfcoder: patch"))
            if problem:
                return self.finish("error", problem + " (on top of the patch)")
        self._timed("apply_s", started)

        after = self._run_tests(sb, "after")
        after_problem = run_problem(after)
        before = None
        if task.needs_before_run or after_problem:
            ws.reset(sb, base)
            problem = self._apply_test_patch(sb, test_patch_path, base) if test_patch_path else None
            if problem:
                return self.finish("error", problem)
            before = self._run_tests(sb, "before")
        if after_problem:
            if before is None or run_problem(before):
                return self.finish("test_cmd_failed", after_problem)
            after_problem = "with the patch, " + after_problem  # the patch broke the test run

        try:
            f2p, p2p = decide(task.fail_to_pass, task.pass_to_pass, after.tests, before.tests if before else None)
        except ValueError as e:
            return self.finish("error", str(e))
        v.fail_to_pass, v.pass_to_pass = f2p, p2p
        summary = describe(f2p, p2p)
        if after_problem:
            return self.finish("unresolved", f"{after_problem}; {summary}")
        if after.timed_out:
            return self.finish("unresolved", f"the test run timed out after {self.limits.timeout_s:g} s; {summary}")
        untested = set(ws.patched_files(self.patch)) <= set(v.restored_files)  # e.g. only the agent's own test
        status = "unresolved" if f2p.failure or p2p.failure or untested else "resolved"
        if untested:
            summary = "nothing of the patch is left to test (it changes only what decides the verdict); " + summary
        if task.reset != "official":  # information for the user, after the verdict is decided
            v.reproduction = observe(sb, base, self.patch, task.command, self.limits.timeout_s)
        if v.restored_files:
            shown = ", ".join(v.restored_files[:5]) + (" ..." if len(v.restored_files) > 5 else "")
            summary += f"; tested without the patch's changes to {shown} (tests and their configuration come from the snapshot)"
        return self.finish(status, summary)

    def _apply_test_patch(self, sb: Sandbox, path: str, base: str) -> str | None:
        applied = ws.apply_patch(sb, path, base)
        self.verdict.test_patch_method = applied.method
        if applied.ok:
            return None
        self.verdict.apply_log = (self.verdict.apply_log + "\n[test patch]\n" + applied.log)[-6000:]
        return "the test patch does not apply: " + _last_line(applied.attempts[0][2])

    def _run_tests(self, sb: Sandbox, phase: Phase) -> TestRun:
        started = time.monotonic()
        report_rel = f"{ws.SCRATCH}/report-{phase}.xml"
        env = self.parser.env(f"{WORKDIR}/{report_rel}") if self.parser.wants_report else {}
        command, canaries = self.task.command, None
        if self.canaries:
            canaries = Canaries.new(ws.SCRATCH)
            canaries.plant(sb)
            env, command = canaries.env(env), canaries.command(command)
        res = sb.run(command, timeout=self.limits.timeout_s, env=env)
        report, known = None, ()
        if self.parser.wants_report:
            try:
                report = sb.read_file(report_rel)
            except (OSError, SelfcoderError):
                report = None  # not written: killed, or pytest never started
            listing = sb.run(f"{ws.GIT} ls-files -co --exclude-standard -- '*.py'", timeout=ws.GIT_TIMEOUT_S)
            known = listing.output.splitlines() if listing.ok else ()
            sb.run(f"rm -f {shlex.quote(report_rel)}", timeout=ws.GIT_TIMEOUT_S)
        run = TestRun(
            phase=phase,
            command=self.task.command,
            parser=self.parser.name,
            exit_code=res.exit_code,
            timed_out=res.timed_out,
            duration_s=round(res.duration_s, 3),
            tests=self.parser.parse(res.output, report, known),
            log_tail=res.output[-LOG_TAIL_CHARS:],
            output=res.output,
        )
        if canaries is not None:
            run.tests, run.canaries, problems = canaries.take(run.tests, res.output)
            if phase == "after":
                self.verdict.suspicious += problems
        self.verdict.runs.append(run)
        self.verdict.tests[phase] = run.tests
        self._timed(f"{phase}_s", started)
        return run


def validate(
    task: ValidationTask,
    patch: str,
    *,
    backend: str = "local",
    limits: Limits | None = None,
    open_sandbox: OpenSandbox | None = None,
    run_id: str | None = None,
    cancel: CancelToken | None = None,
) -> Verdict:
    """Validate `patch` for `task` in a fresh sandbox of `backend` ("local" or "docker").

    `open_sandbox(spec, backend)` makes the sandbox (default: `selfcoder.sandbox.open_sandbox`);
    `run_id` labels it for `selfcoder sandbox gc`; `cancel` closes the sandbox when cancelled (the
    verdict is then an `error`: the caller, who cancelled, reports the run as cancelled)."""
    started = time.monotonic()
    limits = limits or Limits()
    if not patch.strip():
        return Verdict(status="patch_failed", message="the patch is empty")
    try:
        parser = parser_for(task.command, task.log_parser)
    except SelfcoderError as e:
        return Verdict(status="error", message=str(e))
    validation = _Validation(task, patch, parser, limits)
    spec = SandboxSpec(source=task.source, commit=task.commit, limits=limits,
                       run_id=run_id or f"validate-{uuid.uuid4().hex[:8]}")
    opener = open_sandbox or _default_open_sandbox
    try:
        opened = time.monotonic()
        with opener(spec, backend) as sb:
            unregister = cancel.on_cancel(sb.close) if cancel else (lambda: None)
            try:
                validation.verdict.durations_s["sandbox_s"] = round(time.monotonic() - opened, 3)
                if cancel:
                    cancel.check()
                verdict = validation.run(sb)
            finally:
                unregister()
    except SelfcoderError as e:
        verdict = validation.finish("error", str(e))
    except ws.WorkspaceError as e:
        verdict = validation.finish("error", f"validation sandbox: {e}")
    verdict.durations_s["total_s"] = round(time.monotonic() - started, 3)
    return verdict
