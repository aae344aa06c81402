"""Evaluate many instances in parallel: the agent (or given predictions), then official grading.

    evaluation = Evaluation(tasks, out_dir, settings=settings, workers=2)        # run the agent
    evaluation = Evaluation(tasks, out_dir, settings=settings, predictions=preds)  # grade only
    report = evaluation.run()

A local pool of threads; each instance gets its own cancel token, sandboxes and run dir
(`selfcoder.runner.run(validate=False)` produces the patch, `grade.grade_instance` grades it
with the official rule: one path for agents and for given predictions). A record is written
the moment an instance finishes (`store.py`), so Ctrl-C or a kill keeps every finished
instance and a rerun does only the rest. One `Budget` may be shared by every run (`--max-usd`):
once it is spent no new instance starts, and the unstarted ones stay for a rerun.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from selfcoder.cancel import Cancelled, CancelToken
from selfcoder.config import Settings
from selfcoder.errors import SelfcoderError
from selfcoder.eval.environments import EnvironmentProblem, EnvSpec, prepare
from selfcoder.eval.grade import InstanceGrade, grade_instance
from selfcoder.eval.report import write_outputs
from selfcoder.eval.store import ResultStore, patch_digest
from selfcoder.eval.tasks import extra
from selfcoder.sandbox.base import Limits
from selfcoder.status import RunStatus
from selfcoder.task import Task


EVAL_OUTPUT_BYTES = 16_000_000


@dataclass
class Progress:
    total: int
    done: int = 0  # finished in this invocation
    skipped: int = 0  # finished by an earlier one (resume)
    resolved: int = 0
    cost_usd: float = 0.0
    last: str = ""  # "instance_id: outcome"


class _Stop(Exception):
    """The shared budget is spent: this instance is not recorded, nothing new starts."""


class Evaluation:
    def __init__(self, tasks: list[Task], out: Path, *, settings: Settings, predictions: dict[str, dict] | None = None,
                 workers: int = 1, scaffold: Path | str | None = None, budget: Any = None, model_name: str = "",
                 problems: list[str] = (), official: bool | None = None,
                 on_progress: Callable[[Progress], None] | None = None, log: Callable[[str], None] = lambda s: None):
        self.tasks, self.settings, self.predictions = tasks, settings, predictions
        self.workers, self.scaffold, self.budget, self.official = max(1, workers), scaffold, budget, official
        named = next((p.get("model_name_or_path") for p in (predictions or {}).values()), "")
        self.model_name = model_name or (settings.model.name if predictions is None else named or "")
        self.problems, self.log = list(problems), log
        self.store = ResultStore(out)
        limits = Limits.from_settings(settings.sandbox)
        # a test log is cut in the middle past output_bytes; Django/SymPy print one line per test
        # all the way through, and a cut test would count as missing (failed): keep whole logs
        self.limits = dataclasses.replace(limits, output_bytes=max(limits.output_bytes, EVAL_OUTPUT_BYTES))
        self.backend = settings.sandbox.backend
        self.cancel = CancelToken()  # the whole evaluation; each instance gets its own as well
        self._on_progress = on_progress or (lambda p: None)
        self._lock = threading.Lock()
        self._envs: dict[EnvSpec, Any] = {}
        self._env_locks: dict[EnvSpec, threading.Lock] = {}
        self._tokens: set[CancelToken] = set()
        self.stop_reason = ""

    # -- what to do --------------------------------------------------------------------------------
    def _submitted(self) -> list[Task]:
        if self.predictions is None:
            return list(self.tasks)
        return [t for t in self.tasks if t.instance_id in self.predictions]

    def _finished(self, task: Task) -> bool:
        record = self.store.get(task.instance_id)
        if record is None:
            return False
        if self.predictions is not None:  # grading a different patch for this id: grade again
            wanted = self.predictions[task.instance_id].get("model_patch")
            return record.get("patch_digest") == patch_digest(wanted)
        return record.get("mode") == "agent"

    def run(self) -> dict:
        submitted = self._submitted()
        todo = [t for t in submitted if not self._finished(t)]
        progress = Progress(total=len(submitted), skipped=len(submitted) - len(todo))
        progress.resolved = sum(1 for r in self.store.all().values()
                                if r["outcome"] == "resolved" and r["instance_id"] in {t.instance_id for t in submitted})
        self._on_progress(progress)
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="eval")
        pending: dict[Future, Task] = {}
        queue = list(todo)
        try:
            while queue or pending:
                while queue and len(pending) < self.workers and not self.stop_reason and not self.cancel.cancelled:
                    task = queue.pop(0)
                    pending[pool.submit(self._one, task)] = task
                if not pending:
                    break
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    task = pending.pop(future)
                    try:
                        record = future.result()
                    except (_Stop, Cancelled):
                        continue
                    progress.done += 1
                    progress.resolved += record["outcome"] == "resolved"
                    progress.cost_usd += record.get("cost_usd") or 0.0
                    progress.last = f"{task.instance_id}: {record['outcome']}"
                    self._on_progress(progress)
        except BaseException:  # Ctrl-C / SIGTERM: stop every run; finished records stay
            self.stop("interrupted by the user")
            pool.shutdown(wait=True, cancel_futures=True)
            self.write()
            raise
        pool.shutdown(wait=True)
        return self.write()

    def stop(self, reason: str) -> None:
        """Cancel the evaluation and every run in flight (from any thread); finished records stay."""
        self.cancel.cancel(reason)
        with self._lock:
            tokens = list(self._tokens)
        for token in tokens:
            token.cancel(reason)

    def write(self) -> dict:
        submitted = [t.instance_id for t in self._submitted()]
        problems = self.problems + ([f"stopped early: {self.stop_reason}"] if self.stop_reason else [])
        return write_outputs(self.store.out, self.tasks, self.store.all(), submitted=submitted,
                             problems=problems, model=self.model_name)

    # -- one instance ------------------------------------------------------------------------------
    def _environment(self, task: Task):
        spec = EnvSpec.from_task_field(extra(task, "environment"))
        if spec is None:
            return None
        with self._lock:
            lock = self._env_locks.setdefault(spec, threading.Lock())
        with lock:  # built once per spec; a failure is remembered for the other instances
            if spec not in self._envs:
                try:
                    self._envs[spec] = prepare(spec, self.backend, log=self.log)
                except EnvironmentProblem as e:
                    self._envs[spec] = e
            env = self._envs[spec]
        if isinstance(env, EnvironmentProblem):
            raise env
        return env

    def _one(self, task: Task) -> dict:
        token = CancelToken()
        with self._lock:
            if self.cancel.cancelled:
                raise Cancelled("interrupted")
            self._tokens.add(token)
        started = time.monotonic()
        record: dict = {"instance_id": task.instance_id, "model_name_or_path": self.model_name,
                        "mode": "agent" if self.predictions is None else "predictions"}
        try:
            try:
                env = self._environment(task)
                patch = self._patch(task, token, record)
                grade = grade_instance(task, patch, backend=self.backend, limits=self.limits, environment=env,
                                       cancel=token, official=self.official)
            except EnvironmentProblem as e:
                grade = InstanceGrade(outcome="error", message=str(e))
            except _AgentFailed as e:
                grade = InstanceGrade(outcome="error", message=str(e))
            except (Cancelled, _Stop):
                raise
            except SelfcoderError as e:
                grade = InstanceGrade(outcome="error", message=str(e))
        finally:
            with self._lock:
                self._tokens.discard(token)
        record.update(outcome=grade.outcome, message=grade.message, resolution=grade.resolution,
                      test_s=grade.test_s, wall_s=round(time.monotonic() - started, 3), grade=grade.to_json(),
                      finished_at=time.time())
        record.setdefault("model_patch", "")
        record["patch_digest"] = patch_digest(record["model_patch"])
        self.store.put(record)
        return record

    def _patch(self, task: Task, token: CancelToken, record: dict) -> str:
        if self.predictions is not None:
            prediction = self.predictions[task.instance_id]
            record["model_name_or_path"] = prediction.get("model_name_or_path") or self.model_name
            record["model_patch"] = prediction.get("model_patch") or ""
            return record["model_patch"]
        from selfcoder.runner import run

        if self.budget is not None and self.budget.exceeded():
            self.stop_reason = self.budget.exceeded()
            raise _Stop(self.stop_reason)
        run_dir = self.store.run_dir(task.instance_id)
        result = run(task, self.settings, scaffold=self.scaffold, run_dir=run_dir, cancel=token,
                     budget=self.budget, validate=False)
        usage = result.usage or {}
        record.update(run_status=str(result.status), run_id=result.run_id, agent_s=result.duration_s,
                      tokens=usage.get("total_tokens", 0), cost_usd=usage.get("cost_usd", 0.0),
                      calls=usage.get("calls", 0), model_patch=result.patch or "")
        if result.status == RunStatus.CANCELLED:
            raise Cancelled(result.message or "cancelled")
        if result.status == RunStatus.BUDGET_EXCEEDED and self.budget is not None and self.budget.exceeded():
            self.stop_reason = self.budget.exceeded()
            raise _Stop(self.stop_reason)  # the shared money is gone: a rerun with more does this one
        if result.status in (RunStatus.ERROR, RunStatus.MODEL_ERROR, RunStatus.PATCH_TOO_LARGE) and not result.patch:
            raise _AgentFailed(f"agent run {result.status}: {result.message}")
        return result.patch


class _AgentFailed(SelfcoderError):
    """The agent's run ended in an error with nothing to grade."""
