"""The search loop: a pool of workers doing expansions (step.py) and evaluations, as a policy says.

    search = Search(archive, tasks, settings, config, budget=budget, on_progress=print)
    search.run()        # returns when max_evals / max_nodes / the budget is reached, or raises on Ctrl-C

Everything the loop decides comes from archive.db (plus what is in flight), so a resumed search
goes on where the killed one stopped: an evaluation is recorded once it finished (and only
then), a node once it was admitted or rejected. An evaluation reuses `selfcoder eval`'s
`Evaluation` (agent run + the official grading, on the host, outside the child's reach); its
per-instance record survives a kill between the grading and our row, and is not run again.

hgm: no barrier — whenever a worker is free it gets an expansion (evaluations^α ≥ nodes) or
the next evaluation. dgm: generation-synchronous — all wanted (staged) evaluations, then
`children_per_generation` expansions, each phase waiting for the previous one to finish.
"""

from __future__ import annotations

import random
import threading
import uuid
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Callable

from selfcoder.cancel import Cancelled, CancelToken
from selfcoder.config import Settings
from selfcoder.errors import SelfcoderError
from selfcoder.evolve import policies as P
from selfcoder.evolve import step
from selfcoder.evolve.archive import Archive
from selfcoder.evolve.db import EvalRow
from selfcoder.task import Task


@dataclass
class EvolveConfig:
    policy: str = "hgm"
    small: int = 0  # dgm: the first N tasks are the small (first-stage) set; 0 = all
    max_evals: int | None = None
    max_nodes: int | None = None
    workers: int = 1
    admission_tests: str = "python3 -m pytest -q -p no:cacheprovider tests"
    smoke_task: str | None = None  # default: the first task
    seed: int = 0
    params: dict = field(default_factory=dict)  # PolicyConfig fields

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Progress:
    nodes: int = 0
    invalid: int = 0
    evaluations: int = 0
    best: str = ""
    best_score: float | None = None
    cost_usd: float = 0.0
    running: int = 0
    last: str = ""


class Search:
    def __init__(self, archive: Archive, tasks: list[Task], settings: Settings, config: EvolveConfig, *,
                 modify_settings: Settings | None = None, diagnosis_settings: Settings | None = None,
                 budget: Any = None, executor: Any = None, on_progress: Callable[[Progress], None] | None = None):
        if not tasks:
            raise SelfcoderError("the task set is empty")
        self.archive, self.tasks, self.settings, self.cfg = archive, tasks, settings, config
        # a remote executor (Ray) runs the sandboxed work; the loop, the archive and the diagnosis stay here
        self.executor, self.remote = executor, bool(getattr(executor, "remote", False))
        self.budget = executor.share_budget(budget) if self.remote else budget
        self.modify_settings = modify_settings or settings
        self.diagnosis_settings = diagnosis_settings or settings
        self.by_id = {t.instance_id: t for t in tasks}
        ids = list(self.by_id)
        self.small = ids[:config.small] if config.small else ids
        self.full = ids
        self.pcfg = P.PolicyConfig.from_dict({"name": config.policy, **config.params})
        done = len(archive.nodes()) + len(archive.evaluations())
        self.rng = random.Random(f"{config.seed}-{done}")  # a resumed search draws afresh, reproducibly
        self.cancel = CancelToken()
        self._on_progress = on_progress or (lambda p: None)
        self._lock = threading.Lock()
        self._evaluations: set = set()  # live eval.Evaluation objects (to cancel them)
        self.stop_reason = ""
        self.progress = Progress()

    # -- state ------------------------------------------------------------------------------------
    def view(self) -> P.View:
        nodes = self.archive.nodes()
        parents = {n.id: n.parent for n in nodes if n.valid}
        children: dict[str, int] = {}
        for n in nodes:
            if n.parent is not None:
                children[n.parent] = children.get(n.parent, 0) + 1
        results: dict[str, dict[str, bool]] = {}
        for e in self.archive.evaluations():
            results.setdefault(e.node, {})[e.task] = e.resolved
        return P.View(parents=parents, results=results, children=children)

    def best(self, view: P.View) -> tuple[str, float | None]:
        scored = [(P.dgm_node_score(view, n, self.small, self.full, self.pcfg), n) for n in view.parents]
        scored = [(s, -len(view.own(n)), n) for s, n in scored if s is not None]
        if not scored:
            return "", None
        s, _, n = max(scored)
        return n, s

    def _report(self, last: str = "", running: int = 0) -> None:
        view, nodes = self.view(), self.archive.nodes()
        spend = self.archive.db.spend()
        best, score = self.best(view)
        self.progress = Progress(nodes=len(nodes), invalid=sum(not n.valid for n in nodes),
                                 evaluations=spend["evaluations"], best=best, best_score=score,
                                 cost_usd=spend["cost_usd"], running=running, last=last or self.progress.last)
        self._on_progress(self.progress)

    # -- deciding ---------------------------------------------------------------------------------
    def _limits_hit(self, evals_running: int, expansions_running: int) -> tuple[bool, bool]:
        """(may start an evaluation, may start an expansion)."""
        done_evals = len(self.archive.evaluations())
        nodes = len(self.archive.nodes())
        may_eval = self.cfg.max_evals is None or done_evals + evals_running < self.cfg.max_evals
        may_expand = may_eval and (self.cfg.max_nodes is None or nodes + expansions_running < self.cfg.max_nodes)
        return may_eval, may_expand

    def _next_jobs(self, running: dict) -> list[tuple]:
        busy = {(j[1], j[2]) for j in running.values() if j[0] == "eval"}
        expanding = sum(1 for j in running.values() if j[0] == "expand")
        free = self.cfg.workers - len(running)
        view = self.view()
        jobs: list[tuple] = []
        while free > 0:
            may_eval, may_expand = self._limits_hit(len(busy), expanding)
            job = self._pick(view, busy, expanding, running, may_eval, may_expand)
            if job is None:
                break
            jobs.append(job)
            if job[0] == "eval":
                busy.add((job[1], job[2]))
            else:
                expanding += 1
            free -= 1
        return jobs

    def _pick(self, view, busy, expanding, running, may_eval, may_expand):
        if self.pcfg.name == "dgm":
            if may_eval and not expanding:  # a generation's evaluations (staged)
                for node in view.parents:
                    for task in P.dgm_tasks_wanted(view, node, self.small, self.full, self.pcfg):
                        if (node, task) not in busy:
                            return ("eval", node, task)
            if running or busy or expanding >= self.pcfg.children_per_generation or not may_expand:
                return None  # the generation barrier: a generation's children start together
            parents = P.dgm_choose_parents(view, 1, self.small, self.full, self.pcfg, self.rng)
            return ("expand", parents[0]) if parents else None
        evals = len(self.archive.evaluations()) + len(busy)
        nodes = len(view.parents) + expanding
        if may_expand and P.hgm_should_expand(evals, nodes, self.pcfg):
            parent = P.hgm_choose_expansion(view, self.rng)
            if parent is not None:
                return ("expand", parent)
        pick = P.hgm_choose_evaluation(view, self.full, busy, self.rng) if may_eval else None
        if pick is not None:
            return ("eval", *pick)
        if may_expand:
            parent = P.hgm_choose_expansion(view, self.rng)
            return ("expand", parent) if parent else None
        return None

    # -- the loop ---------------------------------------------------------------------------------
    def run(self) -> Progress:
        pool = ThreadPoolExecutor(max_workers=self.cfg.workers, thread_name_prefix="evolve")
        running: dict[Future, tuple] = {}
        self._report()
        try:
            while True:
                if self.budget is not None and self.budget.exceeded():
                    self.stop_reason = self.stop_reason or self.budget.exceeded()
                if not self.stop_reason:
                    for job in self._next_jobs(running):
                        fn = self._evaluate if job[0] == "eval" else self._expand
                        running[pool.submit(fn, *job[1:])] = job
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    job = running.pop(future)
                    try:
                        last = future.result()
                    except step.BudgetSpent as e:
                        self.stop_reason = str(e)
                        last = f"{job[0]} {job[1]}: budget spent"
                    except Cancelled:
                        last = f"{job[0]} {job[1]}: cancelled"
                    self._report(last, running=len(running))
        except BaseException:
            self.stop("interrupted by the user")
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        self._report(running=0)
        return self.progress

    def stop(self, reason: str) -> None:
        """Cancel everything in flight (from any thread); finished records stay."""
        self.stop_reason = self.stop_reason or reason
        self.cancel.cancel(reason)
        with self._lock:
            live = list(self._evaluations)
        for evaluation in live:
            evaluation.stop(reason)

    # -- jobs -------------------------------------------------------------------------------------
    def _evaluate(self, node: str, task_id: str) -> str:
        from selfcoder.eval.evaluate import Evaluation

        if self.cancel.cancelled:
            raise Cancelled("stopped")
        out = self.archive.root / "runs" / "eval" / node
        evaluation = Evaluation([self.by_id[task_id]], out, settings=self.settings, workers=1,
                                scaffold=self.archive.node_dir(node), budget=self.budget, model_name=f"selfcoder/{node}",
                                executor=self.executor if self.remote else None)
        with self._lock:
            self._evaluations.add(evaluation)
        try:
            evaluation.run()
        finally:
            with self._lock:
                self._evaluations.discard(evaluation)
        record = evaluation.store.get(task_id)
        if record is None:
            if evaluation.stop_reason:
                raise step.BudgetSpent(evaluation.stop_reason)
            raise Cancelled("stopped")
        outcome = record.get("outcome", "error")
        if record.get("run_status") in ("budget_exceeded", "token_limit") and outcome != "resolved":
            outcome = record["run_status"]
        if (record.get("grade") or {}).get("verdict_status") == "suspicious":  # reward hacking: the node is out
            outcome = "suspicious"
            self.archive.invalidate(node, f"its patch for {task_id} was suspicious: {record.get('message', '')[:300]}")
        self.archive.record_evaluation(EvalRow(
            node=node, task=task_id, resolved=outcome == "resolved", outcome=outcome,
            tokens=int(record.get("tokens") or 0), cost_usd=float(record.get("cost_usd") or 0.0),
            time_s=float(record.get("wall_s") or 0.0), log_path=str(evaluation.store.run_dir(task_id))))
        return f"{node} on {task_id}: {outcome}"

    def _remotely(self, fn, *args, **kwargs):
        """fn's result from the remote executor; the search's cancel cancels the job."""
        future = self.executor.submit(fn, *args, **kwargs)
        unregister = self.cancel.on_cancel(lambda: self.executor.cancel(future))
        try:
            return future.result()
        finally:
            unregister()

    def _expand(self, parent: str) -> str:
        if self.cancel.cancelled:
            raise Cancelled("stopped")
        work = self.archive.root / "runs" / "expand" / f"{parent}-{uuid.uuid4().hex[:8]}"
        work.mkdir(parents=True)
        parent_dir = self.archive.node_dir(parent)
        with self._lock:
            target = step.pick_target(self.archive.evaluations(parent), self.rng)
        task = self.by_id.get(target.task) if target.task else None
        problem, usage = step.diagnose(target, task, self.diagnosis_settings, work / "diagnosis", self.budget)
        origin = {"task": target.task, "kind": target.kind, "diagnosis": target.log[-4000:], "problem": problem}
        step.write_origin(work, origin)
        smoke_task = self.by_id[self.cfg.smoke_task or self.tasks[0].instance_id]
        args = dict(settings=self.settings, modify_settings=self.modify_settings, test_cmd=self.cfg.admission_tests,
                    work=work, budget=self.budget, smoke_task=smoke_task)
        if self.remote:  # the sandboxed part on a worker; the archive write stays here
            reason, tokens, cost = self._remotely(step.make_child, parent_dir, problem, **args)
        else:
            reason, tokens, cost = step.make_child(parent_dir, problem, cancel=self.cancel, **args)
        tokens += usage.get("total_tokens", 0)
        cost += usage.get("cost_usd", 0.0)
        child_dir = work / "child"
        files = child_dir if child_dir.is_dir() else parent_dir  # an invalid child without files keeps its parent's
        self.cancel.check()
        row = self.archive.add_node(files, parent=parent, status="invalid" if reason else "valid", reason=reason,
                                    origin=origin, tokens=tokens, cost_usd=cost, log_path=str(work))
        return f"{row.id} (from {parent}): {'invalid: ' + reason[:80] if reason else 'valid'}"
