"""Run one task: snapshot → sandbox → scaffold → patch → fresh-sandbox validation → run dir.

The run dir (`<repo>/.selfcoder/runs/<run_id>/`) is the record everything downstream reads
(CLI summary, `--apply`, eval reports, evolve scores, the editor's diff view):

    task.json         the task as given
    snapshot.json     sha256 of every source file at snapshot time (for a safe --apply)
    trajectory.jsonl  every LLM call and every agent action, appended as it happens
    patch.diff        the agent's change against the snapshot
    validation.json   the verdict of the fresh-sandbox test run
    result.json       status, usage, timings — written even on error or Ctrl-C

The agent runs only inside the sandbox and reaches the model only through this run's
gateway socket; no API key ever enters the sandbox.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from selfcoder.config import Settings
from selfcoder.errors import BudgetExceeded, ModelError, SelfcoderError
from selfcoder.fingerprint import fingerprint_tree
from selfcoder.sandbox.base import AGENT_DIR, LLM_SOCKET, RUN_DIR, Limits, Mount, SandboxSpec
from selfcoder.scaffold import resolve_scaffold
from selfcoder.task import Task

EVENT_PREFIX = "@@selfcoder "
EventCallback = Callable[[dict[str, Any]], None]

# Final statuses of a run (result.json "status").
RESOLVED, UNRESOLVED, EMPTY_PATCH = "resolved", "unresolved", "empty_patch"
NOT_VALIDATED = "not_validated"  # no tests to run the patch against were found
CANCELLED, ERROR = "cancelled", "error"


@dataclass
class RunResult:
    run_id: str
    run_dir: Path
    status: str
    agent_status: str = ""
    message: str = ""
    patch: str = ""
    verdict: dict | None = None
    usage: dict = field(default_factory=dict)
    started_at: float = 0.0
    duration_s: float = 0.0
    phase_durations_s: dict = field(default_factory=dict)

    @property
    def validated(self) -> bool:
        return self.status == RESOLVED

    def to_json(self) -> dict:
        data = asdict(self)
        data["run_dir"] = str(self.run_dir)
        return data


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]


def runs_root(repo: Path, settings: Settings) -> Path:
    """The runs dir, created with a `.gitignore` so the repository's git never sees it."""
    root = settings.run.runs_dir
    root = root if root.is_absolute() else repo / root
    root.mkdir(parents=True, exist_ok=True)
    top = repo / ".selfcoder"
    if root.is_relative_to(top) and not (top / ".gitignore").exists():
        (top / ".gitignore").write_text("*\n")
    return root


class Runner:
    """Runs tasks with one configuration. `cancel()` may be called from another thread."""

    def __init__(self, settings: Settings, *, on_event: EventCallback | None = None, validate: bool = True):
        self.settings = settings
        self.on_event = on_event or (lambda event: None)
        self.validate = validate
        self._cancelled = threading.Event()
        self._live: list = []  # open sandboxes, closed on cancel
        self._lock = threading.Lock()

    def cancel(self) -> None:
        self._cancelled.set()
        with self._lock:
            for sandbox in list(self._live):
                sandbox.close()

    # -- the run ---------------------------------------------------------------------------

    def run(self, task: Task) -> RunResult:
        from selfcoder.llm import TrajectoryLog

        source, repo = _source_of(task)
        run_id = new_run_id()
        run_dir = runs_root(repo, self.settings) / run_id
        run_dir.mkdir(parents=True)
        (run_dir / "task.json").write_text(json.dumps(task.to_json(), indent=2))
        result = RunResult(run_id=run_id, run_dir=run_dir, status=ERROR, started_at=time.time())
        trajectory = TrajectoryLog(run_dir / "trajectory.jsonl")
        self._emit({"type": "run", "run_id": run_id, "run_dir": str(run_dir)})
        gateway = None
        try:
            (run_dir / "snapshot.json").write_text(json.dumps(fingerprint_tree(repo) if source == repo else {}))
            gateway = self._gateway(run_id, trajectory)
            with _phase(result, "agent"):
                result.patch, result.agent_status, result.message = self._run_agent(task, source, gateway, trajectory)
            (run_dir / "patch.diff").write_text(result.patch)
            result.status = self._decide(task, source, result)
        except KeyboardInterrupt:
            result.status, result.message = CANCELLED, "interrupted by the user"
            raise
        except SelfcoderError as e:
            result.status = _status_of_error(e, self._cancelled.is_set())
            result.message = str(e)
        except Exception as e:  # an internal error must still leave a result.json
            result.status, result.message = ERROR, f"{type(e).__name__}: {e}"
            raise
        finally:
            if self._cancelled.is_set() and result.status not in (RESOLVED, UNRESOLVED):
                result.status = CANCELLED
            if gateway is not None:
                result.usage = gateway.usage.to_json()
                if gateway.status == "budget_exceeded" and result.status != RESOLVED:
                    result.status = "budget_exceeded"
                elif gateway.status == "model_error" and result.status in (EMPTY_PATCH, ERROR):
                    result.status = "model_error"
                gateway.close()
            result.duration_s = round(time.time() - result.started_at, 3)
            record = {k: v for k, v in result.to_json().items() if k != "patch"}  # the patch is patch.diff
            (run_dir / "result.json").write_text(json.dumps(record, indent=2))
            self._emit({"type": "done", "status": result.status, "run_dir": str(run_dir)})
        return result

    def _gateway(self, run_id: str, trajectory):
        from selfcoder.llm import Gateway

        return Gateway(self.settings, run_id=run_id, trajectory=trajectory)

    def _run_agent(self, task: Task, source: Path, gateway, trajectory) -> tuple[str, str, str]:
        """Start the scaffold in a sandbox; return (patch, agent exit status, message)."""
        from selfcoder.code import build_repo_map
        from selfcoder.sandbox import open_sandbox

        agent = self.settings.agent
        repo_map = build_repo_map(source, task.problem_statement) if source.is_dir() else None
        agent_task = {
            "instance_id": task.instance_id,
            "problem_statement": task.problem_statement,
            "repo_map": repo_map.text if repo_map else "",
            "test_cmd": task.test_cmd,
            "hints": {"files": repo_map.ranked_files[:5] if repo_map else []},
            "limits": {
                "max_steps": agent.max_steps,
                "time_limit_s": agent.time_limit_s,
                "max_tokens": self.settings.budget.max_tokens,
            },
        }
        io_dir = Path(tempfile.mkdtemp(prefix="selfcoder-io-"))  # short path: unix sockets max 108 chars
        try:
            io_dir.chmod(0o755)
            (io_dir / "task.json").write_text(json.dumps(agent_task))
            (io_dir / "task.json").chmod(0o644)
            # a private copy: the repository may live where the sandbox uid cannot traverse
            # (e.g. under /root), and the scaffold must not change under a running agent
            scaffold = shutil.copytree(resolve_scaffold(agent.node), io_dir / "agent",
                                       ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
            _world_readable(scaffold)
            spec = SandboxSpec(
                source=source,
                commit=task.base_commit,
                limits=self._limits(),
                mounts=[Mount(io_dir, RUN_DIR), Mount(scaffold, AGENT_DIR)],
                env={"SELFCODER_LLM_SOCKET": LLM_SOCKET},
                run_id=trajectory.path.parent.name,
                image=self.settings.sandbox.image,
            )
            with gateway.serve(io_dir / "llm.sock"):
                self._emit({"type": "phase", "phase": "sandbox"})
                with self._tracked(open_sandbox(spec, self.settings.sandbox.backend)) as sandbox:
                    self._emit({"type": "phase", "phase": "agent"})
                    events = _EventParser(trajectory, self._emit)
                    res = sandbox.run(
                        f"python3 {AGENT_DIR}/main.py {RUN_DIR}/task.json",
                        timeout=agent.time_limit_s + 60,
                        on_output=events.feed,
                    )
                    events.flush()
                    trajectory.append({"type": "agent_exit", "exit_code": res.exit_code,
                                       "timed_out": res.timed_out, "output_tail": res.output[-2000:]})
                    if self._cancelled.is_set():
                        raise SelfcoderError("cancelled")
                    status = events.exit.get("status") or ("time_limit" if res.timed_out else "error")
                    message = events.exit.get("message") or ("" if res.ok else res.output[-500:])
                    return sandbox.diff(), status, message
        finally:
            shutil.rmtree(io_dir, ignore_errors=True)

    def _decide(self, task: Task, source: Path, result: RunResult) -> str:
        """Validate a non-empty patch in a fresh sandbox; the verdict decides the run status."""
        if not result.patch.strip():
            return EMPTY_PATCH  # run() turns it into budget_exceeded when the gateway says so
        if not self.validate:
            return NOT_VALIDATED
        from selfcoder.validate import ValidationTask, validate

        self._emit({"type": "phase", "phase": "validate"})
        with _phase(result, "validate"):
            verdict = validate(
                ValidationTask(
                    source=source,
                    commit=task.base_commit,
                    test_cmd=task.test_cmd,
                    fail_to_pass=task.fail_to_pass,
                    pass_to_pass=task.pass_to_pass,
                    test_patch=task.test_patch,
                ),
                result.patch,
                backend=self.settings.sandbox.backend,
                limits=self._limits(),
            )
        data = verdict.to_json()
        (result.run_dir / "validation.json").write_text(json.dumps(data, indent=2))
        result.verdict = data
        self._emit({"type": "verdict", "status": data["status"]})
        return RESOLVED if data["status"] == "resolved" else data["status"]

    # -- helpers -----------------------------------------------------------------------------

    def _limits(self) -> Limits:
        return Limits.from_settings(self.settings.sandbox)

    def _emit(self, event: dict) -> None:
        self.on_event(event)

    @contextmanager
    def _tracked(self, sandbox):
        """Use `sandbox` as a context manager, registered so cancel() can close it."""
        with self._lock:
            if self._cancelled.is_set():
                sandbox.close()
                raise SelfcoderError("cancelled")
            self._live.append(sandbox)
        try:
            with sandbox:
                yield sandbox
        finally:
            with self._lock:
                self._live.remove(sandbox)


@contextmanager
def _phase(result: RunResult, name: str):
    """Record how long a phase of the run took in result.phase_durations_s."""
    t0 = time.monotonic()
    try:
        yield
    finally:
        result.phase_durations_s[name] = round(time.monotonic() - t0, 3)


class _EventParser:
    """Splits agent output into lines; `@@selfcoder {json}` lines become trajectory events."""

    def __init__(self, trajectory, emit: EventCallback):
        self.trajectory, self.emit = trajectory, emit
        self.buffer = ""
        self.exit: dict = {}

    def feed(self, chunk: str) -> None:
        self.buffer += chunk
        *lines, self.buffer = self.buffer.split("\n")
        for line in lines:
            self._line(line)

    def flush(self) -> None:
        if self.buffer:
            self._line(self.buffer)
            self.buffer = ""

    def _line(self, line: str) -> None:
        if not line.startswith(EVENT_PREFIX):
            return
        try:
            event = json.loads(line[len(EVENT_PREFIX):])
        except ValueError:
            return
        if not isinstance(event, dict):
            return
        event = {**event, "type": f"agent_{event.get('type', 'event')}"}
        self.trajectory.append(event)
        if event["type"] == "agent_exit":
            self.exit = event
        self.emit(event)


def _world_readable(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def _source_of(task: Task) -> tuple[Path, Path]:
    """(snapshot source, directory that holds the runs): a tarball's runs go beside it."""
    if task.repo_path is None:
        raise SelfcoderError(f"task {task.instance_id}: no repo_path (a local directory, git repository or tarball)")
    source = Path(task.repo_path).expanduser().resolve()
    if not source.exists():
        raise SelfcoderError(f"{source}: no such directory or tarball")
    return source, (source if source.is_dir() else source.parent)


def _status_of_error(error: SelfcoderError, cancelled: bool) -> str:
    if cancelled:
        return CANCELLED
    if isinstance(error, BudgetExceeded):
        return "budget_exceeded"
    if isinstance(error, ModelError):
        return "model_error"
    return ERROR
