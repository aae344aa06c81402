"""Run one task: snapshot → sandbox → scaffold → patch → fresh-sandbox validation → run dir.

A library, called by `selfcoder solve`, eval, evolve and the language server:

    result = run(task, settings, cancel=token, on_event=print, budget=shared_budget)

Every run is independent: its own run id, cancel token, gateway and I/O directory; the
settings are copied, never changed; a `Budget` may be shared on purpose by many runs (in
parallel threads) so that they stop together when it is spent.

The run dir (`<repo>/.selfcoder/runs/<run_id>/`, or the caller's `run_dir`) is the record
everything downstream reads:

    task.json         the task as given
    snapshot.json     sha256 of every source file at snapshot time (for a safe --apply)
    trajectory.jsonl  every LLM call and every agent event, appended as it happens
    patch.diff        the agent's change against the snapshot
    validation.json   the verdict of the fresh-sandbox test run
    result.json       status, usage, timings — written even on error, Ctrl-C or SIGTERM

The agent runs only inside the sandbox and reaches the model only through this run's
gateway socket; no API key ever enters the sandbox.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from selfcoder.core.agent_events import EVENTS_FILE, AgentEventTail
from selfcoder.core.cancel import Cancelled, CancelToken
from selfcoder.core.config import Settings
from selfcoder.core.errors import BudgetExceeded, ModelError, PatchTooLarge, SelfcoderError
from selfcoder.core.events import (AgentEvent, EventCallback, PhaseStarted, RunEvent, RunFinished, RunStarted,
                              VerdictReady)
from selfcoder.core.fingerprint import fingerprint_tree
from selfcoder.sandbox.base import AGENT_DIR, LLM_SOCKET, RUN_DIR, Limits, Mount, SandboxSpec
from selfcoder.core.scaffold import copy_scaffold, resolve_scaffold
from selfcoder.core.status import RunStatus
from selfcoder.core.task import Task

AGENT_EVENTS = f"{RUN_DIR}/{EVENTS_FILE}"


@dataclass
class RunResult:
    run_id: str
    run_dir: Path
    status: RunStatus
    agent_status: str = ""
    message: str = ""
    patch: str = ""
    verdict: Any = None  # selfcoder.validate.Verdict, when the patch was validated
    usage: dict = field(default_factory=dict)
    started_at: float = 0.0
    duration_s: float = 0.0
    phase_durations_s: dict = field(default_factory=dict)
    sampling: dict = field(default_factory=dict)  # the attempt's temperature and seed (llm/sampling.py)
    reproduction_tests: list = field(default_factory=list)  # test files the patch adds: shown, never counted

    @property
    def validated(self) -> bool:
        return self.status == RunStatus.RESOLVED

    def to_json(self) -> dict:
        data = asdict(self)
        data["run_dir"] = str(self.run_dir)
        data["status"] = str(self.status)
        data["verdict"] = self.verdict.to_json() if self.verdict is not None else None
        return data


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]


def runs_root(repo: Path, settings: Settings) -> Path:
    """The runs dir, created with a `.gitignore` so the repository's git never sees it.

    A repository could commit `.selfcoder` (or `.selfcoder/runs`) as a symlink to move every
    run's task, patch and trajectory anywhere the user can write, so inside the repository each
    component is created or opened without following links, and a link is refused."""
    root = settings.run.runs_dir
    root = root if root.is_absolute() else repo / root
    if not root.is_relative_to(repo):  # the user's own choice of a place outside the repository
        root.mkdir(parents=True, exist_ok=True)
        return root
    _mkdirs_no_links(repo, root.relative_to(repo).parts)
    top = repo / ".selfcoder"
    if root.is_relative_to(top):
        _write_new_file(top / ".gitignore", "*\n")
    return root


def _mkdirs_no_links(base: Path, parts: tuple[str, ...]) -> None:
    """Make `base/parts...` a chain of real directories, refusing any that is a link or not a directory."""
    fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for i, part in enumerate(parts):
            here = base.joinpath(*parts[: i + 1])
            try:
                os.mkdir(part, 0o755, dir_fd=fd)
            except FileExistsError:
                pass
            try:
                child = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            except OSError as e:
                what = " is a symlink" if here.is_symlink() else " is not a directory" if e.errno == errno.ENOTDIR else f": {e.strerror}"
                raise SelfcoderError(f"{here}{what}: refusing to keep runs there (the runs dir must be a real "
                                     f"directory inside {base}; remove it or set run.runs_dir)") from None
            os.close(fd)
            fd = child
    finally:
        os.close(fd)


def _write_new_file(path: Path, text: str) -> None:
    """Create `path` with `text` unless it exists; never through a link."""
    if path.is_symlink():
        raise SelfcoderError(f"{path} is a symlink: refusing to keep runs beside it (remove it)")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as f:
        f.write(text)


def run(
    task: Task,
    settings: Settings,
    *,
    scaffold: Path | str | None = None,
    run_dir: Path | None = None,
    run_id: str | None = None,
    cancel: CancelToken | None = None,
    on_event: EventCallback | None = None,
    budget: Any = None,
    validate: bool = True,
    sampling: Any = None,
) -> RunResult:
    """Run `task` once and return its result (also written to the run dir).

    scaffold: a scaffold directory (default: `settings.agent.node`); run_dir: where the record
    goes (default: `<repo>/.selfcoder/runs/<run_id>`); cancel: stops the run from any thread,
    the validation sandbox included; on_event: receives `selfcoder.core.events` objects; budget: a
    `selfcoder.llm.Budget` shared with other runs, drawn on besides this run's own settings.budget;
    sampling: the attempt's `selfcoder.llm.sampling.Sampling` (default: attempt 1 of 1), which the
    gateway imposes on every model call. Errors that concern the task become the result's status; only a bug here raises.
    """
    return _Run(task, settings.model_copy(deep=True), scaffold=scaffold, run_dir=run_dir, run_id=run_id,
                cancel=cancel or CancelToken(), on_event=on_event, budget=budget, validate=validate,
                sampling=sampling).go()


class _Run:
    """The state of one run (never shared between runs)."""

    def __init__(self, task: Task, settings: Settings, *, scaffold, run_dir, run_id, cancel: CancelToken,
                 on_event, budget, validate: bool, sampling):
        from selfcoder.llm.sampling import attempt_sampling, new_series

        self.task, self.settings, self.cancel, self.budget, self.validate = task, settings, cancel, budget, validate
        self.scaffold = Path(scaffold) if scaffold else resolve_scaffold(settings.agent.node)
        self.source, repo = _source_of(task)
        self.run_id = run_id or new_run_id()
        self.run_dir = Path(run_dir) if run_dir else runs_root(repo, settings) / self.run_id
        self.sampling = sampling or attempt_sampling(settings.agent, 1, 1, new_series(settings.agent.seed))
        self._on_event = on_event or (lambda event: None)
        self.limits = Limits.from_settings(settings.sandbox)

    def emit(self, event: RunEvent) -> None:
        try:
            self._on_event(event)
        except Exception:  # noqa: BLE001 - a broken display must not break the run
            pass

    def go(self) -> RunResult:
        from selfcoder.llm import Gateway, TrajectoryLog

        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "task.json").write_text(json.dumps(self.task.to_json(), indent=2))
        result = RunResult(run_id=self.run_id, run_dir=self.run_dir, status=RunStatus.ERROR, started_at=time.time(),
                           sampling=self.sampling.to_json())
        self.emit(RunStarted(self.run_id, run_dir=str(self.run_dir)))
        trajectory = TrajectoryLog(self.run_dir / "trajectory.jsonl")
        gateway = None
        decided = False
        try:
            self.cancel.check()
            snapshot = fingerprint_tree(self.source) if self.source.is_dir() else {}
            (self.run_dir / "snapshot.json").write_text(json.dumps(snapshot))
            from selfcoder.llm.budget import Budget

            # the run's own limits always hold; a shared budget (many runs' --max-usd) holds on top
            budget = Budget.from_settings(self.settings.budget, parent=self.budget)
            gateway = Gateway(self.settings, run_id=self.run_id, trajectory=trajectory, budget=budget,
                              sampling=self.sampling)
            with _phase(result, "agent"):
                result.patch, result.agent_status, result.message = self._agent(gateway, trajectory)
            (self.run_dir / "patch.diff").write_text(result.patch)
            self.cancel.check()
            result.status = self._decide(result)
            decided = True
        except KeyboardInterrupt:
            self.cancel.cancel("interrupted by the user")
            result.status, result.message = RunStatus.CANCELLED, "interrupted by the user"
            raise
        except Cancelled as e:
            result.status, result.message = RunStatus.CANCELLED, str(e)
        except SelfcoderError as e:
            result.status, result.message = _status_of_error(e), str(e)
        except Exception as e:  # an internal error must still leave a result.json
            result.status, result.message = RunStatus.ERROR, f"{type(e).__name__}: {e}"
            raise
        finally:
            if self.cancel.cancelled and not decided:
                result.status = RunStatus.CANCELLED
                result.message = result.message or self.cancel.reason
            if gateway is not None:
                result.usage = gateway.usage.to_json()
                if gateway.status == "budget_exceeded" and result.status != RunStatus.RESOLVED:
                    result.status = RunStatus.BUDGET_EXCEEDED
                elif gateway.status == "model_error" and result.status in (RunStatus.EMPTY_PATCH, RunStatus.ERROR):
                    result.status = RunStatus.MODEL_ERROR
                    result.message = getattr(gateway, "last_error", "") or result.message
                gateway.close()
            result.duration_s = round(time.time() - result.started_at, 3)
            record = {k: v for k, v in result.to_json().items() if k not in ("patch", "verdict")}
            (self.run_dir / "result.json").write_text(json.dumps(record, indent=2))
            self.emit(RunFinished(self.run_id, status=str(result.status), message=result.message,
                                  run_dir=str(self.run_dir)))
        return result

    # -- the agent -----------------------------------------------------------------------------

    def _agent_task(self) -> dict:
        """What the scaffold reads from task.json; the repository map comes from the snapshot at
        `base_commit` (not the host directory as it is now) and is ranked with the failing tests."""
        from selfcoder.code import build_repo_map
        from selfcoder.sandbox.snapshot import materialise

        agent = self.settings.agent
        failing = "\n".join(self.task.fail_to_pass)
        with tempfile.TemporaryDirectory(prefix="selfcoder-map-") as tmp:
            try:
                materialise(self.source, Path(tmp) / "repo", self.task.base_commit)
                repo_map = build_repo_map(Path(tmp) / "repo", self.task.problem_statement, failing)
            except (SelfcoderError, OSError):
                repo_map = None  # the sandbox reports a bad snapshot with a clear message
        return {
            "instance_id": self.task.instance_id,
            "problem_statement": self.task.problem_statement,
            "repo_map": repo_map.text if repo_map else "",
            "test_cmd": self.task.test_cmd,
            "hints": {"files": repo_map.ranked_files[:5] if repo_map else []},
            "limits": {"max_steps": agent.max_steps, "time_limit_s": agent.time_limit_s,
                       "max_tokens": self.settings.budget.max_tokens},
            "sampling": self.sampling.to_json(),  # informative: the gateway imposes it on every call
        }

    def _agent(self, gateway, trajectory) -> tuple[str, str, str]:
        """Start the scaffold in a sandbox; return (patch, agent exit status, message)."""
        from selfcoder.sandbox import open_sandbox
        from selfcoder.sandbox.workdirs import pick_uid, write_owner

        agent = self.settings.agent
        uid = pick_uid()
        with _io_dir(uid) as io_dir:
            write_owner(io_dir, kind="io", run_id=self.run_id)  # `selfcoder sandbox gc` sweeps it after kill -9
            _private_file(io_dir / "task.json", json.dumps(self._agent_task()), uid)
            _private_file(io_dir / EVENTS_FILE, "", uid, writable=True)
            scaffold = copy_scaffold(self.scaffold, io_dir / "agent")
            spec = SandboxSpec(
                source=self.source, commit=self.task.base_commit, limits=self.limits,
                mounts=[Mount(io_dir, RUN_DIR, read_only=False), Mount(scaffold, AGENT_DIR)],
                env={"SELFCODER_LLM_SOCKET": LLM_SOCKET, "SELFCODER_EVENTS": AGENT_EVENTS},
                run_id=self.run_id, image=self.settings.sandbox.image, uid=uid,
            )
            with gateway.serve(io_dir / "llm.sock", owner_uid=uid):
                self.emit(PhaseStarted(self.run_id, phase="sandbox"))
                with self._cancellable(open_sandbox(spec, self.settings.sandbox.backend)) as sandbox:
                    self.emit(PhaseStarted(self.run_id, phase="agent"))
                    events = AgentEventTail(io_dir / EVENTS_FILE, lambda e: self._agent_event(e, trajectory))
                    with events:
                        res = sandbox.run(f"python3 {AGENT_DIR}/main.py {RUN_DIR}/task.json",
                                          timeout=agent.time_limit_s + 60)
                    trajectory.append({"type": "agent_exit", "exit_code": res.exit_code, "timed_out": res.timed_out,
                                       "output_tail": res.output[-2000:], "dropped_events": events.dropped})
                    self.cancel.check()
                    status = str(events.exit.get("status") or ("time_limit" if res.timed_out else "error"))
                    message = str(events.exit.get("message") or ("" if res.ok else res.output[-500:]))
                    return sandbox.diff(), status, message

    def _agent_event(self, event: dict, trajectory) -> None:
        kind = str(event.get("type", "event"))
        trajectory.append({**event, "type": f"agent_{kind}"})
        self.emit(AgentEvent(self.run_id, kind=kind, data={k: v for k, v in event.items() if k != "type"}))

    # -- validation ----------------------------------------------------------------------------

    def _decide(self, result: RunResult) -> RunStatus:
        """Validate a non-empty patch in a fresh sandbox; the verdict decides the run status."""
        from selfcoder.validate.protected import new_test_files

        result.reproduction_tests = new_test_files(result.patch)  # the user sees them; the verdict never counts them
        if not result.patch.strip():
            return RunStatus.EMPTY_PATCH  # go() turns it into budget_exceeded when the gateway says so
        if not self.validate:
            return RunStatus.NOT_VALIDATED
        from selfcoder.validate import ValidationTask, validate

        self.emit(PhaseStarted(self.run_id, phase="validate"))
        with _phase(result, "validate"):
            verdict = validate(
                ValidationTask(source=self.source, commit=self.task.base_commit, test_cmd=self.task.test_cmd,
                               fail_to_pass=self.task.fail_to_pass, pass_to_pass=self.task.pass_to_pass,
                               test_patch=self.task.test_patch,
                               log_parser=(self.task.model_extra or {}).get("log_parser")),
                result.patch, backend=self.settings.sandbox.backend, limits=self.limits,
                run_id=f"{self.run_id}-validate", cancel=self.cancel,
            )
        self.cancel.check()  # a sandbox killed by cancel is `cancelled`, never `unresolved`
        (self.run_dir / "validation.json").write_text(json.dumps(verdict.to_json(), indent=2))
        result.verdict = verdict
        self.emit(VerdictReady(self.run_id, status=verdict.status, message=verdict.message))
        return RunStatus(verdict.status)

    @contextmanager
    def _cancellable(self, sandbox):
        """Use `sandbox` as a context manager that the cancel token closes."""
        unregister = self.cancel.on_cancel(sandbox.close)
        try:
            self.cancel.check()
            with sandbox:
                yield sandbox
        finally:
            unregister()


@contextmanager
def _io_dir(uid: int | None):
    """The run's I/O directory (task.json, events, scaffold copy, gateway socket), private to us and
    the sandbox uid. A short path: unix socket paths are limited to 108 bytes."""
    from selfcoder.sandbox.workdirs import remove_tree

    path = Path(tempfile.mkdtemp(prefix="selfcoder-io-"))
    try:
        if uid is not None:
            os.chown(path, uid, -1)
        path.chmod(0o700)
        yield path
    finally:
        remove_tree(path)


def _private_file(path: Path, text: str, uid: int | None, *, writable: bool = False) -> None:
    path.write_text(text)
    path.chmod(0o600 if writable else 0o400)
    if uid is not None:
        os.chown(path, uid, -1)


@contextmanager
def _phase(result: RunResult, name: str):
    """Record how long a phase of the run took in result.phase_durations_s."""
    t0 = time.monotonic()
    try:
        yield
    finally:
        result.phase_durations_s[name] = round(time.monotonic() - t0, 3)


def _source_of(task: Task) -> tuple[Path, Path]:
    """(snapshot source, directory that holds the runs): a tarball's runs go beside it."""
    if task.repo_path is None:
        raise SelfcoderError(f"task {task.instance_id}: no repo_path (a local directory, git repository or tarball)")
    source = Path(task.repo_path).expanduser().resolve()
    if not source.exists():
        raise SelfcoderError(f"{source}: no such directory or tarball")
    return source, (source if source.is_dir() else source.parent)


def _status_of_error(error: SelfcoderError) -> RunStatus:
    if isinstance(error, BudgetExceeded):
        return RunStatus.BUDGET_EXCEEDED
    if isinstance(error, ModelError):
        return RunStatus.MODEL_ERROR
    if isinstance(error, PatchTooLarge):
        return RunStatus.PATCH_TOO_LARGE
    return RunStatus.ERROR
