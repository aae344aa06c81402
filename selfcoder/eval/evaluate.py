"""Evaluate many instances in parallel: the agent (or given predictions), then official grading.

    evaluation = Evaluation(tasks, out_dir, settings=settings, workers=2)        # run the agent
    evaluation = Evaluation(tasks, out_dir, settings=settings, predictions=preds)  # grade only
    report = evaluation.run()

A pool of workers; each instance gets its own cancel token, sandboxes and run dir
(`selfcoder.solve.runner.run(validate=False)` produces the patch, `grade.grade_instance` grades it
with the official rule: one path for agents and for given predictions). A record is written
the moment an instance finishes (`store.py`), so Ctrl-C or a kill keeps every finished
instance and a rerun does only the rest. One `Budget` may be shared by every run (`--max-usd`):
once it is spent no new instance starts, and the unstarted ones stay for a rerun.

`executor=` (selfcoder.pools) runs the instances elsewhere: a Ray cluster gets each
instance as a picklable `InstanceJob` (instance.py) and sends back its record, which is stored
here, on the host that owns `out`; the shared budget becomes the executor's (one keeper for
all machines). Without one, a local pool of `workers` threads, as before.
"""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from selfcoder.core.cancel import Cancelled, CancelToken
from selfcoder.core.config import Settings
from selfcoder.eval.environments import EnvironmentProblem, EnvSpec, prepare
from selfcoder.eval.instance import InstanceJob, StopEvaluation, run_instance
from selfcoder.eval.report import write_outputs
from selfcoder.eval.store import ResultStore, patch_digest
from selfcoder.eval.official_specs import task_environment
from selfcoder.pools import ExecutorError, LocalExecutor
from selfcoder.sandbox.base import Limits
from selfcoder.core.task import Task


EVAL_OUTPUT_BYTES = 16_000_000
OFFICIAL_TEST_TIMEOUT_S = 1800  # the official harness's `--timeout` default (run_evaluation.py)


@dataclass
class Progress:
    total: int
    done: int = 0  # finished in this invocation
    skipped: int = 0  # finished by an earlier one (resume)
    resolved: int = 0
    errors: int = 0  # in this invocation
    cost_usd: float = 0.0
    last: str = ""  # "instance_id: outcome"
    last_id: str = ""
    last_outcome: str = ""
    last_s: float = 0.0  # the last instance's wall time


class Evaluation:
    def __init__(self, tasks: list[Task], out: Path, *, settings: Settings, predictions: dict[str, dict] | None = None,
                 workers: int = 1, scaffold: Path | str | None = None, budget: Any = None, model_name: str = "",
                 problems: list[str] = (), official: bool | None = None, executor: Any = None,
                 test_timeout_s: float | None = None,
                 on_progress: Callable[[Progress], None] | None = None, log: Callable[[str], None] = lambda s: None):
        self.tasks, self.settings, self.predictions = tasks, settings, predictions
        self.workers, self.scaffold, self.official = max(1, workers), scaffold, official
        self.executor = executor  # None: a pool of `workers` threads of our own
        self.budget = executor.share_budget(budget) if executor is not None else budget
        named = next((p.get("model_name_or_path") for p in (predictions or {}).values()), "")
        self.model_name = model_name or (settings.model.name if predictions is None else named or "")
        self.problems, self.log = list(problems), log
        self.store = ResultStore(out)
        limits = Limits.from_settings(settings.sandbox)
        # a test log is cut in the middle past output_bytes; Django/SymPy print one line per test
        # all the way through, and a cut test would count as missing (failed): keep whole logs
        self.limits = dataclasses.replace(limits, output_bytes=max(limits.output_bytes, EVAL_OUTPUT_BYTES))
        if test_timeout_s is not None:  # `selfcoder eval --test-timeout` (default: the official 1800 s)
            self.limits = dataclasses.replace(self.limits, timeout_s=float(test_timeout_s),
                                              cpu_s=max(self.limits.cpu_s, int(test_timeout_s) + 1))
        self.backend = settings.sandbox.backend
        self.cancel = CancelToken()  # the whole evaluation; each instance gets its own as well
        self._on_progress = on_progress or (lambda p: None)
        self._lock = threading.Lock()
        self._envs: dict[EnvSpec, Any] = {}
        self._env_locks: dict[EnvSpec, threading.Lock] = {}
        self._tokens: set[CancelToken] = set()
        self._remote: set[Future] = set()  # this evaluation's jobs on a remote executor (to cancel them)
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
        pool = self.executor or LocalExecutor(self.workers, thread_name_prefix="eval")
        remote = getattr(pool, "remote", False)
        pending: dict[Future, Task] = {}
        queue = list(todo)
        try:
            while queue or pending:
                while queue and len(pending) < self.workers and not self.stop_reason and not self.cancel.cancelled:
                    task = queue.pop(0)
                    pending[self._submit(pool, task, remote)] = task
                if not pending:
                    break
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    task = pending.pop(future)
                    self._remote.discard(future)
                    try:
                        record = future.result()
                    except StopEvaluation as e:
                        self.stop_reason = self.stop_reason or str(e)
                        continue
                    except Cancelled:
                        continue
                    except ExecutorError as e:  # a worker died: no record, a rerun does this instance
                        self.problems.append(f"{task.instance_id}: {e}")
                        self.log(f"{task.instance_id}: {e}")
                        continue
                    if remote:
                        self.store.put(record)  # the host that owns `out` writes it
                    progress.done += 1
                    progress.resolved += record["outcome"] == "resolved"
                    progress.errors += record["outcome"] == "error"
                    progress.last_id, progress.last_outcome = task.instance_id, record["outcome"]
                    progress.last_s = record.get("wall_s") or 0.0
                    progress.cost_usd += record.get("cost_usd") or 0.0
                    progress.last = f"{task.instance_id}: {record['outcome']}"
                    self._on_progress(progress)
        except BaseException:  # Ctrl-C / SIGTERM: stop every run; finished records stay
            self.stop("interrupted by the user")
            if pool is self.executor:  # shared with others: stop and wait for our own jobs only
                for future in pending:
                    pool.cancel(future)
                wait(pending)
            else:
                pool.shutdown(wait=True, cancel_futures=True)
            self.write()
            raise
        if pool is not self.executor:
            pool.shutdown(wait=True)
        return self.write()

    def _submit(self, pool: Any, task: Task, remote: bool) -> Future:
        if not remote:
            return pool.submit(self._one, task)
        with self._lock:
            future = pool.submit(run_instance, self._job(task))
            self._remote.add(future)
        if self.cancel.cancelled:  # stop() ran between the check and the submit
            pool.cancel(future)
        return future

    def stop(self, reason: str) -> None:
        """Cancel the evaluation and every run in flight (from any thread); finished records stay."""
        self.cancel.cancel(reason)
        with self._lock:
            tokens, remote = list(self._tokens), list(self._remote)
        for token in tokens:
            token.cancel(reason)
        for future in remote:
            self.executor.cancel(future)

    def write(self) -> dict:
        submitted = [t.instance_id for t in self._submitted()]
        problems = self.problems + ([f"stopped early: {self.stop_reason}"] if self.stop_reason else [])
        return write_outputs(self.store.out, self.tasks, self.store.all(), submitted=submitted,
                             problems=problems, model=self.model_name)

    # -- one instance ------------------------------------------------------------------------------
    def _environment(self, task: Task):
        spec, source = task_environment(task)
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
        return dataclasses.replace(env, source=source)

    def _job(self, task: Task) -> InstanceJob:
        return InstanceJob(task=task, settings=self.settings, run_dir=self.store.run_dir(task.instance_id),
                           model_name=self.model_name, backend=self.backend, limits=self.limits,
                           prediction=None if self.predictions is None else self.predictions[task.instance_id],
                           scaffold=self.scaffold, official=self.official, budget=self.budget)

    def _one(self, task: Task) -> dict:
        """One instance in a thread of this process: run, grade, store the record."""
        token = CancelToken()
        with self._lock:
            if self.cancel.cancelled:
                raise Cancelled("interrupted")
            self._tokens.add(token)
        try:
            record = self._job(task).run(token, self._environment)
        finally:
            with self._lock:
                self._tokens.discard(token)
        self.store.put(record)
        return record
