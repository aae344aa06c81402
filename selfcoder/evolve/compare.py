"""`selfcoder archive compare A B --tasks HELDOUT`: two agents on tasks the search never saw.

A search's own scores are optimistic: it kept the nodes that happened to do well on its task
set. Whether node `n7` is really better than the seed shows only on held-out tasks, with the
noise stated. So: each side (an archive node; `seed`, the archive's root — the scaffold the
search started from, whatever the shipped seed is now; or `best`, the node `archive best`
names) is evaluated
with `selfcoder eval`'s `Evaluation` (agent run in a sandbox + the host's official grading),
one output directory per side under OUT, so a rerun resumes; then the solve rates with 95 %
Wilson intervals and the paired difference (tasks one side solved and the other did not)
with an exact McNemar p-value — and, when the set is too small for that test ever to reach
p < 0.05 (n tasks can give no p below 2·0.5^n: fewer than 6 never can), says so, so a "no
significant difference" is not read as evidence. Held-out tasks that the archive's evaluations table shows the
search used are named in a warning: their results are not held out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from selfcoder.core.errors import SelfcoderError
from selfcoder.evolve.stats import mcnemar_exact, mcnemar_floor, tasks_needed, wilson
from selfcoder.core.task import Task

SEED = "seed"  # the archive's root
BEST = "best"  # the archive's best node (stats.best_node, as `archive best`)


@dataclass
class Side:
    name: str
    scaffold: Path
    results: dict[str, str] = field(default_factory=dict)  # task id -> outcome (resolved, unresolved, error...)

    @property
    def solved(self) -> int:
        return sum(o == "resolved" for o in self.results.values())

    @property
    def errors(self) -> int:
        return sum(o == "error" for o in self.results.values())


@dataclass
class Paired:
    tasks: int  # tasks both sides finished
    only_a: int
    only_b: int
    both: int
    neither: int

    @property
    def p_value(self) -> float:
        return mcnemar_exact(self.only_a, self.only_b)


def resolve_side(archive, name: str) -> Side:
    """`seed` (the archive's root), `best` or a valid node of `archive`; a one-line error otherwise."""
    from selfcoder.evolve.archive import ROOT

    if name == SEED:
        return Side(SEED, archive.node_dir(ROOT))
    node = name
    if name == BEST:
        node, _ = archive.best()
        if node is None:
            raise SelfcoderError(f"{BEST}: no node of {archive.root} has been evaluated yet")
    row = archive.db.node(node)
    if row is None:
        ids = [n.id for n in archive.nodes()]
        known = ", ".join(ids[:8]) + (", ..." if len(ids) > 8 else "")
        raise SelfcoderError(f"{name}: no such node in {archive.root} (nodes: {known}; or '{SEED}', the archive's "
                             f"root, or '{BEST}')")
    if not row.valid:
        raise SelfcoderError(f"{name}: the node is {row.status} ({row.reason}); it cannot run")
    return Side(node, archive.node_dir(node))  # `best` by the node it names: its results are that node's


def seen_by_search(archive, tasks: list[Task]) -> list[str]:
    """Held-out task ids that the search evaluated some node on (in task-set order)."""
    seen = {e.task for e in archive.evaluations()}
    return [t.instance_id for t in tasks if t.instance_id in seen]


def default_out(archive_root: Path, tasks_file: Path) -> Path:
    """ARCHIVE/compare/<stem>-<digest of the task set>: a changed task set gets a fresh directory."""
    digest = hashlib.sha256(Path(tasks_file).read_bytes()).hexdigest()[:8]
    return Path(archive_root) / "compare" / f"{Path(tasks_file).stem}-{digest}"


def evaluate_side(side: Side, tasks: list[Task], out: Path, *, settings, workers: int, budget: Any = None,
                  on_progress: Callable | None = None, log: Callable[[str], None] = lambda s: None):
    """Run (or resume) `side` on `tasks` in `out`; fills `side.results` from the records on disk.
    Returns the Evaluation (its stop_reason says whether a budget stopped it)."""
    from selfcoder.eval.evaluate import Evaluation

    evaluation = Evaluation(tasks, out, settings=settings, workers=workers, scaffold=side.scaffold, budget=budget,
                            model_name=f"selfcoder/{side.name}", on_progress=on_progress, log=log)
    evaluation.run()
    for task in tasks:
        record = evaluation.store.get(task.instance_id)
        if record is not None and record.get("mode") == "agent":
            side.results[task.instance_id] = record.get("outcome", "error")
    return evaluation


def paired(a: Side, b: Side) -> Paired:
    common = [t for t in a.results if t in b.results]
    sa = {t for t in common if a.results[t] == "resolved"}
    sb = {t for t in common if b.results[t] == "resolved"}
    return Paired(tasks=len(common), only_a=len(sa - sb), only_b=len(sb - sa), both=len(sa & sb),
                  neither=len(common) - len(sa | sb))


def rate_line(side: Side) -> tuple[str, str, str, str]:
    """(solved, rate, 95 % CI, errors) as printed in the table."""
    n = len(side.results)
    if n == 0:
        return "0/0", "-", "-", "0"
    low, high = wilson(side.solved, n)
    return f"{side.solved}/{n}", f"{side.solved / n:.2f}", f"[{low:.2f}, {high:.2f}]", str(side.errors)


def paired_summary(a: Side, b: Side) -> str:
    p = paired(a, b)
    if p.tasks == 0:
        return "paired: no task finished on both sides"
    diff = (p.only_a - p.only_b) / p.tasks
    return (f"paired, {p.tasks} tasks: solved by {a.name} only {p.only_a}, by {b.name} only {p.only_b}, "
            f"both {p.both}, neither {p.neither}; difference {a.name} − {b.name} = {diff:+.2f}, "
            f"exact McNemar p = {p.p_value:.3f} (two-sided)")


ALPHA = 0.05


def too_small(n: int, alpha: float = ALPHA) -> str | None:
    """Why `n` held-out tasks can never show a difference at p < alpha, or None when they can."""
    floor = mcnemar_floor(n)
    if floor < alpha:
        return None
    return (f"too few tasks: with {n} held-out task{'s' if n != 1 else ''} the exact McNemar p can never go below "
            f"{floor:.4g} (2·0.5^{n}), so no difference can reach p < {alpha:g}; use at least {tasks_needed(alpha)} "
            "tasks, and a few dozen to see a moderate one")


def report(sides: list[Side], seen: list[str], stopped: str = "", tasks: int | None = None) -> dict:
    """What `archive compare --json` prints: the table and the paired test as data, for scripts.
    `tasks`: the held-out set's size (default: the tasks both sides finished)."""
    a, b = sides
    p = paired(a, b)
    n = p.tasks if tasks is None else tasks

    def side_data(side: Side) -> dict:
        n = len(side.results)
        return {"node": side.name, "solved": side.solved, "finished": n, "rate": side.solved / n if n else None,
                "wilson_95": list(wilson(side.solved, n)) if n else None, "errors": side.errors,
                "results": dict(side.results)}

    return {"sides": [side_data(a), side_data(b)],
            "paired": {"tasks": p.tasks, "solved_only_by": {a.name: p.only_a, b.name: p.only_b}, "both": p.both,
                       "neither": p.neither, "mcnemar_p": p.p_value, "min_possible_p": mcnemar_floor(n),
                       "too_small": too_small(n)},
            "seen_by_search": seen, "stopped": stopped or None}
