"""One instance of an evaluation, as plain data: what a worker needs to produce its record.

    record = InstanceJob(task=..., settings=..., run_dir=..., ...).run(cancel, environment)

An `InstanceJob` holds only picklable things (the task, the settings, paths, the limits, the
shared budget), so the same job runs in a thread of this process (`Evaluation._one`) or as a
Ray task on another machine (`run_instance`). It runs the agent (or takes the given
prediction) and grades the patch with the official rules; it does not write the result store —
the caller does, on the host that owns the output directory.

Outcomes besides a record: `StopEvaluation` (the shared budget is spent: no record, nothing new
starts, a rerun with more money does this instance) and `Cancelled`.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from selfcoder.core.cancel import Cancelled, CancelToken
from selfcoder.core.config import Settings
from selfcoder.core.errors import SelfcoderError
from selfcoder.eval.environments import EnvironmentProblem, prepare
from selfcoder.eval.grade import InstanceGrade, grade_instance
from selfcoder.eval.official_specs import task_environment
from selfcoder.eval.store import patch_digest
from selfcoder.sandbox.base import Limits
from selfcoder.core.status import RunStatus
from selfcoder.core.task import Task


class StopEvaluation(SelfcoderError):
    """The shared budget is spent: this instance is not recorded, nothing new starts."""


class AgentFailed(SelfcoderError):
    """The agent's run ended in an error with nothing to grade."""


@dataclass
class InstanceJob:
    task: Task
    settings: Settings
    run_dir: Path
    model_name: str
    backend: str
    limits: Limits
    prediction: dict | None = None  # None: run the agent
    scaffold: Path | str | None = None
    official: bool | None = None
    budget: Any = None  # a Budget shared by every instance (or its Ray proxy)

    def run(self, cancel: CancelToken, environment: Callable[[Task], Any]) -> dict:
        """The instance's record (outcome, grade, patch, usage); `environment(task)` gives its test env."""
        started = time.monotonic()
        task = self.task
        record: dict = {"instance_id": task.instance_id, "model_name_or_path": self.model_name,
                        "mode": "agent" if self.prediction is None else "predictions"}
        try:
            env = environment(task)
            patch = self._patch(cancel, record)
            grade = grade_instance(task, patch, backend=self.backend, limits=self.limits, environment=env,
                                   cancel=cancel, official=self.official)
        except (Cancelled, StopEvaluation):
            raise
        except (EnvironmentProblem, AgentFailed, SelfcoderError) as e:
            grade = InstanceGrade(outcome="error", message=str(e))
        record.update(outcome=grade.outcome, message=grade.message, resolution=grade.resolution,
                      test_s=grade.test_s, wall_s=round(time.monotonic() - started, 3), grade=grade.to_json(),
                      finished_at=time.time())
        record.setdefault("model_patch", "")
        record["patch_digest"] = patch_digest(record["model_patch"])
        return record

    def _patch(self, cancel: CancelToken, record: dict) -> str:
        if self.prediction is not None:
            record["model_name_or_path"] = self.prediction.get("model_name_or_path") or self.model_name
            record["model_patch"] = self.prediction.get("model_patch") or ""
            return record["model_patch"]
        from selfcoder.solve.attempts import solve

        budget = self.budget
        if budget is not None and budget.exceeded():
            raise StopEvaluation(budget.exceeded())
        # agent.attempts, voted on without the hidden tests; one attempt keeps run_dir as it was
        outcome = solve(self.task, self.settings, scaffold=self.scaffold, run_dir=self.run_dir, cancel=cancel,
                        budget=budget, validate=False)
        result = outcome.best
        usages = [r.usage or {} for r in outcome.attempts]
        record.update(run_status=str(result.status), run_id=result.run_id, agent_s=result.duration_s,
                      tokens=sum(u.get("total_tokens", 0) for u in usages), model_patch=result.patch or "",
                      cost_usd=sum(u.get("cost_usd", 0.0) for u in usages), calls=sum(u.get("calls", 0) for u in usages))
        if result.status == RunStatus.CANCELLED:
            raise Cancelled(result.message or "cancelled")
        if result.status == RunStatus.BUDGET_EXCEEDED and budget is not None and budget.exceeded():
            raise StopEvaluation(budget.exceeded())  # the shared money is gone: a rerun with more does this one
        if result.status in (RunStatus.ERROR, RunStatus.MODEL_ERROR, RunStatus.PATCH_TOO_LARGE) and not result.patch:
            raise AgentFailed(f"agent run {result.status}: {result.message}")
        return result.patch


def prepared_environment(task: Task, *, backend: str, log: Callable[[str], None] = lambda s: None):
    """The task's test environment, built once per spec on this machine (a disk cache under a lock)."""
    spec, source = task_environment(task)
    return None if spec is None else dataclasses.replace(prepare(spec, backend, log=log), source=source)


def run_instance(job: InstanceJob, *, cancel: CancelToken) -> dict:
    """A job on a remote executor: the record (the driver stores it) or StopEvaluation / Cancelled."""
    return job.run(cancel, lambda task: prepared_environment(task, backend=job.backend))
