"""The search loop: a pool of workers doing expansions (step.py) and evaluations, as a policy says.

    search = Search(archive, tasks, settings, config, budget=budget, on_progress=print)
    search.run()        # returns when max_evals / max_nodes / the budget is reached, or raises on Ctrl-C

Everything the loop decides comes from archive.db (plus what is in flight), so a resumed search
goes on where the killed one stopped: an evaluation is recorded once it finished (and only
then), a node once it was admitted, rejected or failed (every expansion is a row). An
evaluation reuses `selfcoder eval`'s `Evaluation` (agent run + the official grading, on the
host, outside the child's reach); its per-instance record survives a kill between the grading
and our row, and is not run again; a run a kill cut off is kept beside the new one
(`<run>.killed-N`), not overwritten. Each decision draws from a generator seeded by the
config's seed and the archive's state (how many nodes and evaluations), so with one worker a
search killed at any moment and resumed makes the same decisions as one never killed.

Every model call's usage is written to the archive's spend ledger (db.py) before its reply is
used (`LedgerBudget`): what a kill or a stop cut off is counted too, by `--max-usd` as well.

hgm: the root is evaluated on the whole task set first; then, whenever a worker is free, an
expansion (evaluations^α ≥ nodes, the root not counted; only nodes with finished results) or
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

from selfcoder.core.cancel import Cancelled, CancelToken
from selfcoder.core.config import Settings
from selfcoder.core.errors import BudgetExceeded, SelfcoderError
from selfcoder.evolve import parent_selection as P
from selfcoder.evolve import diagnosis, step, surface
from selfcoder.evolve.archive import ROOT, Archive
from selfcoder.evolve.ledger import LedgerBudget
from selfcoder.evolve.stats import best_node
from selfcoder.core.task import Task


@dataclass
class EvolveConfig:
    policy: str = "hgm"
    small: int = 0  # dgm: the first N tasks are the small (first-stage) set; 0 = all
    max_evals: int | None = None
    max_nodes: int | None = None
    workers: int = 1
    admission_tests: str = "python3 -m pytest -q -p no:cacheprovider tests"
    smoke_task: str | None = None  # default: the first task
    scope: str = surface.LEGACY_SCOPE  # the files a child may change (surface.py; the CLI's default differs)
    seed: int = 0
    # seconds for the parent's run on its own code (None: the agent's time_limit_s, as evaluations):
    # the host's choice, as DGM gives self-modification a larger budget than an evaluation
    modify_time_limit_s: float | None = None
    # what the diagnosis model is shown (diagnosis.VIEWS): `full`, DGM's; `focused`, the host's finding
    # and its one file, for a small model that otherwise writes a fix for the task
    diagnosis_view: str = "full"
    params: dict = field(default_factory=dict)  # PolicyConfig fields

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Progress:
    nodes: int = 0
    invalid: int = 0  # invalid and failed expansions
    evaluations: int = 0
    best: str = ""
    best_score: float | None = None  # the Wilson 95 % lower bound (stats.best_node)
    cost_usd: float = 0.0  # the ledger: every call, finished work or not
    lost_usd: float = 0.0  # of which work that a kill or a stop cut off
    running: int = 0
    last: str = ""


def replayable(settings: Settings) -> Settings:
    """`settings` with a fixed base seed when the user set none: an evolve search is replayable, so a
    killed and resumed search makes the same runs (and the diagnosis reads the same run records)
    as one never killed. Solve and eval draw a new series each time instead (llm/sampling.py)."""
    if settings.agent.seed is not None:
        return settings
    return settings.model_copy(update={"agent": settings.agent.model_copy(update={"seed": 0})})


class Search:
    def __init__(self, archive: Archive, tasks: list[Task], settings: Settings, config: EvolveConfig, *,
                 modify_settings: Settings | None = None, diagnosis_settings: Settings | None = None,
                 budget: Any = None, executor: Any = None, on_progress: Callable[[Progress], None] | None = None):
        if not tasks:
            raise SelfcoderError("the task set is empty")
        settings = replayable(settings)
        self.archive, self.tasks, self.settings, self.cfg = archive, tasks, settings, config
        # a remote executor (Ray) runs the sandboxed work; the loop, the archive and the diagnosis stay here
        self.executor, self.remote = executor, bool(getattr(executor, "remote", False))
        self.local_budget = budget  # what this process's ledger budgets draw on
        self.budget = executor.share_budget(budget) if self.remote else budget
        self.modify_settings = replayable(modify_settings or settings)
        if config.modify_time_limit_s:
            agent = self.modify_settings.agent.model_copy(update={"time_limit_s": float(config.modify_time_limit_s)})
            self.modify_settings = self.modify_settings.model_copy(update={"agent": agent})
        self.diagnosis_settings = replayable(diagnosis_settings or settings)
        self.by_id = {t.instance_id: t for t in tasks}
        ids = list(self.by_id)
        self.small = ids[:config.small] if config.small else ids
        self.full = ids
        self.pcfg = P.PolicyConfig.from_dict({"name": config.policy, **config.params})
        # the root's manifest, never a child's: what a child may change is the user's decision
        self.scope = (config.scope, surface.patterns(surface.load(archive.node_dir(ROOT)), config.scope))
        self.cancel = CancelToken()
        self._on_progress = on_progress or (lambda p: None)
        self._lock = threading.Lock()
        self._evaluations: set = set()  # live eval.Evaluation objects (to cancel them)
        self.stop_reason = ""
        self.progress = Progress()

    def _rng(self, *what: Any) -> random.Random:
        """A generator for one decision, seeded by the config's seed and the archive's state, so a
        resumed search decides as the uninterrupted one did at the same point."""
        nodes, evals = len(self.archive.nodes()), len(self.archive.evaluations())
        return random.Random("/".join(str(x) for x in (self.cfg.seed, nodes, evals, *what)))

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

    def best(self) -> tuple[str, float | None]:
        node, score = best_node(self.archive.nodes(), self.archive.evaluations(), self.full)
        return node or "", score

    def _report(self, last: str = "", running: int = 0) -> None:
        nodes = self.archive.nodes()
        spend = self.archive.db.spend()
        best, score = self.best()
        self.progress = Progress(nodes=len(nodes), invalid=sum(not n.valid for n in nodes),
                                 evaluations=spend["evaluations"], best=best, best_score=score,
                                 cost_usd=spend["cost_usd"], lost_usd=spend["lost_cost_usd"], running=running,
                                 last=last or self.progress.last)
        self._on_progress(self.progress)

    # -- deciding ---------------------------------------------------------------------------------
    def _limits_hit(self, evals_running: int, expansions_running: int) -> tuple[bool, bool]:
        """(may start an evaluation, may start an expansion). An expansion may bring an evaluation
        (its smoke run), so it holds one of `max_evals` while it runs."""
        done_evals = len(self.archive.evaluations())
        nodes = len(self.archive.nodes())
        may_eval = self.cfg.max_evals is None or done_evals + evals_running + expansions_running < self.cfg.max_evals
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
            rng = self._rng("pick", len(running), len(jobs))
            job = self._pick(view, busy, expanding, running, may_eval, may_expand, rng)
            if job is None:
                break
            jobs.append(job)
            if job[0] == "eval":
                busy.add((job[1], job[2]))
            else:
                expanding += 1
            free -= 1
        return jobs

    def _pick(self, view, busy, expanding, running, may_eval, may_expand, rng):
        if self.pcfg.name == "dgm":
            if may_eval and not expanding:  # a generation's evaluations (staged)
                for node in view.parents:
                    for task in P.dgm_tasks_wanted(view, node, self.small, self.full, self.pcfg):
                        if (node, task) not in busy:
                            return ("eval", node, task)
            if running or busy or expanding >= self.pcfg.children_per_generation or not may_expand:
                return None  # the generation barrier: a generation's children start together
            parents = P.dgm_choose_parents(view, 1, self.small, self.full, self.pcfg, rng)
            return ("expand", parents[0]) if parents else None
        root_left = [t for t in self.full if t not in view.own(ROOT)]
        if root_left:  # the root first, on the whole task set: nothing is expanded blind
            pick = next((t for t in root_left if (ROOT, t) not in busy), None)
            return ("eval", ROOT, pick) if pick is not None and may_eval else None
        evals = sum(len(r) for n, r in view.results.items() if n != ROOT)  # finished, the root's not counted
        children = len(self.archive.nodes()) - 1 + expanding  # made or being made, the root not counted
        if may_expand and P.hgm_should_expand(evals, children, self.pcfg):
            parent = P.hgm_choose_expansion(view, rng)
            if parent is not None:
                return ("expand", parent)
        pick = P.hgm_choose_evaluation(view, self.full, busy, rng) if may_eval else None
        if pick is not None:
            return ("eval", *pick)
        if may_expand and not running and not busy and not expanding:  # idle else: grow the tree
            parent = P.hgm_choose_expansion(view, rng)
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
                        args = job[1:] if job[0] == "eval" else (job[1], self._rng("target", job[1]))
                        running[pool.submit(fn, *args)] = job
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
        except KeyboardInterrupt:
            self.stop("interrupted by the user")
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        except BaseException as e:
            self.stop(f"stopped by an error: {type(e).__name__}: {str(e)[:300]}")
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
    def _ledger(self, job: str, kind: str, **where: Any) -> Any:
        """The budget a job's runs draw on: a `LedgerBudget` here; on a remote executor the shared
        budget (the job's spend is written to the ledger when it comes back)."""
        if self.remote:
            return self.budget
        return LedgerBudget(self.archive, job, kind, parent=self.local_budget, **where)

    def _evaluate(self, node: str, task_id: str) -> str:
        from selfcoder.eval.evaluate import Evaluation

        if self.cancel.cancelled:
            raise Cancelled("stopped")
        out = self.archive.root / "runs" / "eval" / node
        job = f"eval/{node}/{task_id}/{uuid.uuid4().hex[:8]}"
        evaluation = Evaluation([self.by_id[task_id]], out, settings=self.settings, workers=1,
                                scaffold=self.archive.node_dir(node), model_name=f"selfcoder/{node}",
                                budget=self._ledger(job, "evaluation", node=node, task=task_id),
                                executor=self.executor if self.remote else None)
        recorded = evaluation.store.get(task_id) is not None  # graded before a kill: not run again
        if not recorded:
            _keep_killed_run(evaluation.store.run_dir(task_id))
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
        if self.remote and not recorded:
            self.archive.db.add_spend(job, "evaluation", int(record.get("tokens") or 0),
                                      float(record.get("cost_usd") or 0.0), node=node, task=task_id)
        row = step.evaluation_row(node, task_id, record, str(evaluation.store.run_dir(task_id)))
        _, hacked = step.evaluation_outcome(record)
        if hacked:  # reward hacking: the node is out
            self.archive.invalidate(node, hacked)
        self.archive.record_evaluation(row)
        return f"{node} on {task_id}: {row.outcome}"

    def _remotely(self, fn, *args, **kwargs):
        """fn's result from the remote executor; the search's cancel cancels the job."""
        future = self.executor.submit(fn, *args, **kwargs)
        unregister = self.cancel.on_cancel(lambda: self.executor.cancel(future))
        try:
            return future.result()
        finally:
            unregister()

    def _expand(self, parent: str, rng: random.Random) -> str:
        if self.cancel.cancelled:
            raise Cancelled("stopped")
        work = self.archive.root / "runs" / "expand" / f"{parent}-{uuid.uuid4().hex[:8]}"
        work.mkdir(parents=True)
        job = f"expand/{work.name}"
        parent_dir = self.archive.node_dir(parent)
        in_scope = surface.files_in_scope(parent_dir, self.scope[1])
        target = diagnosis.pick_target(self.archive.evaluations(parent), rng, surface.files_in_scope(parent_dir, ["**"]),
                                       in_scope)
        task = self.by_id.get(target.task) if target.task else None
        origin = {"task": target.task, "kind": target.kind, "diagnosis": target.log[-4000:], "problem": None,
                  "focus": target.focus, "fact": target.fact}
        scope_note = surface.note(*self.scope, in_scope)
        try:
            problem, usage = diagnosis.diagnose(target, task, self.diagnosis_settings, work / "diagnosis",
                                                self._ledger(job, "diagnosis", node=parent), agent_dir=parent_dir,
                                                in_scope=in_scope, scope_note=scope_note,
                                                view=self.cfg.diagnosis_view)
        except diagnosis.DiagnosisFailed as e:  # recorded, and the search goes on
            return self._failed(parent, parent_dir, work, origin, str(e), e.usage)
        problem = origin["problem"] = diagnosis.modify_problem(target, problem, scope_note)
        step.write_origin(work, origin)
        smoke_task = self.by_id[self.cfg.smoke_task or self.tasks[0].instance_id]
        args = dict(settings=self.settings, modify_settings=self.modify_settings, test_cmd=self.cfg.admission_tests,
                    work=work, smoke_task=smoke_task, scope=self.scope)
        try:
            if self.remote:  # the sandboxed part on a worker; the archive write stays here
                made = self._remotely(step.make_child, parent_dir, problem, budget=self.budget, **args)
                spent = (made["smoke"] or {})
                self.archive.db.add_spend(job, "child", made["tokens"] + int(spent.get("tokens") or 0),
                                          made["cost_usd"] + float(spent.get("cost_usd") or 0.0), node=parent)
            else:
                made = step.make_child(parent_dir, problem, cancel=self.cancel,
                                       budget=self._ledger(job, "child", node=parent), **args)
        except (step.BudgetSpent, Cancelled):
            raise
        except BudgetExceeded as e:
            raise step.BudgetSpent(str(e)) from None
        except SelfcoderError as e:  # a sandbox or a run broke: this expansion failed, the search goes on
            if self.cancel.cancelled:
                raise Cancelled("stopped") from None
            return self._failed(parent, parent_dir, work, origin, f"the child could not be made: {e}", usage)
        if made["restored"] or made.get("dropped"):
            origin.update({k: v for k, v in (("restored_tests", made["restored"]),
                                             ("dropped_reproduction_tests", made.get("dropped"))) if v})
            step.write_origin(work, origin)
        tokens = made["tokens"] + usage.get("total_tokens", 0)
        cost = made["cost_usd"] + usage.get("cost_usd", 0.0)
        child_dir = work / "child"
        files = child_dir if child_dir.is_dir() else parent_dir  # a child without files keeps its parent's
        smoke = made["smoke"]
        first = step.evaluation_row("", smoke_task.instance_id, smoke, smoke["run_dir"]) if smoke else None
        self.cancel.check()
        row = self.archive.add_node(files, parent=parent, status=made["status"], reason=made["reason"], origin=origin,
                                    tokens=tokens, cost_usd=cost, log_path=str(work), evaluation=first)
        reason = made["reason"] or ""
        return f"{row.id} (from {parent}): {made['status']}" + (f": {reason[:80]}" if reason else "")

    def _failed(self, parent: str, parent_dir, work, origin: dict, reason: str, usage: dict) -> str:
        """An expansion that made no child: a `failed` row (the parent's files) with the reason
        and what it spent (the rest of its calls are in the ledger)."""
        step.write_origin(work, origin)
        self.cancel.check()
        row = self.archive.add_node(parent_dir, parent=parent, status="failed", reason=reason, origin=origin,
                                    tokens=usage.get("total_tokens", 0), cost_usd=usage.get("cost_usd", 0.0),
                                    log_path=str(work))
        return f"{row.id} (from {parent}): failed: {reason[:80]}"


def _keep_killed_run(run_dir) -> None:
    """An evaluation run a kill cut off (a run dir without a record): moved to `<run>.killed-N`,
    so the rerun does not overwrite its trajectory."""
    if not run_dir.exists():
        return
    n = 1
    while run_dir.with_name(f"{run_dir.name}.killed-{n}").exists():
        n += 1
    run_dir.rename(run_dir.with_name(f"{run_dir.name}.killed-{n}"))
