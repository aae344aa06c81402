"""Wall-clock of the evolve search's schedules with simulated model latencies: hgm's asynchronous
scheduler against DGM's generation-synchronous one, on the same work, with 4 workers.

Why: an expansion (diagnosis + the parent agent editing itself + admission + a smoke task) and
an evaluation (one agent run + grading) take minutes with heavy-tailed spread. A generation
barrier makes every worker wait for the slowest expansion of the generation, then for the
slowest evaluation; hgm gives a free worker the next expansion or evaluation at once.

What runs: the real scheduler — `selfcoder.evolve.search.Search.run` with its `_next_jobs`/`_pick`
and the real policies (`hgm`; `dgm` with its default `children_per_generation`, 2, or
`--children`, and no staging) — in a subclass whose two job functions sleep for a latency
drawn from a seeded lognormal and then record their result (an evaluation row; a valid child
node) in an in-memory archive with the methods Search reads (no sandboxes, no git, no model:
the measurement is the schedule; `selfcoder/evolve/search.py` is not changed for it).
The k-th expansion and the k-th evaluation started get the same latency in both runs, and both
stop at the same numbers (`--nodes` nodes, `--nodes × --tasks` evaluations), so the two runs do
the same work and differ only in how it is scheduled. Latencies are in units of `--unit` s.

    .venv/bin/python bench/evolve_schedule.py                 # 3 seeds, ~45 s
    .venv/bin/python bench/evolve_schedule.py --children 4      # a generation as wide as the pool
    .venv/bin/python bench/evolve_schedule.py --sigma 0.8 --expand-median 2 --reps 5

Prints per seed and schedule: wall seconds, worker utilisation (busy time / (workers × wall)),
nodes and evaluations done, the ratio hgm / dgm; then the mean ratio and utilisations. With
equal work the ratio is dgm's utilisation over hgm's, so it depends on how heavy the latency
tail is (`--sigma`: 1.0 is the default, agent runs range from a minute to their time limit)
and on how long expansions take against evaluations (`--expand-median`). Targets (issue 10):
ratio <= 0.7, hgm utilisation >= 90 %.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from selfcoder.evolve.db import EvalRow, NodeRow  # noqa: E402
from selfcoder.evolve.parent_selection import PolicyConfig  # noqa: E402
from selfcoder.evolve.search import EvolveConfig, Search  # noqa: E402
from selfcoder.core.task import Task  # noqa: E402


class MemoryArchive:
    """What Search reads and writes of an Archive (nodes, evaluations, spend), in memory."""

    def __init__(self, root: Path):
        self.root = root
        self.db = self
        self._lock = threading.Lock()
        self._nodes = [NodeRow(id="root", seq=0, parent=None, created=time.time(), commit_sha="-", status="valid")]
        self._evals: list[EvalRow] = []

    def nodes(self) -> list[NodeRow]:
        with self._lock:
            return list(self._nodes)

    def evaluations(self, node: str | None = None) -> list[EvalRow]:
        with self._lock:
            return [e for e in self._evals if node is None or e.node == node]

    def spend(self) -> dict:
        return {"cost_usd": 0.0, "tokens": 0, "evaluations": len(self._evals)}

    def add_child(self, parent: str) -> str:
        with self._lock:
            seq = len(self._nodes)
            self._nodes.append(NodeRow(id=f"n{seq}", seq=seq, parent=parent, created=time.time(), commit_sha="-",
                                       status="valid"))
            return f"n{seq}"

    def record_evaluation(self, row: EvalRow) -> None:
        with self._lock:
            self._evals.append(row)


class SimulatedSearch(Search):
    """The real Search; only the work of a job is simulated (a sleep, then the record)."""

    def __init__(self, *args, latencies: dict[str, list[float]], unit: float, seed: int, **kw):
        super().__init__(*args, **kw)
        self.latencies, self.unit, self.seed = latencies, unit, seed
        self.started = {"expand": 0, "eval": 0}
        self.busy_s = 0.0
        self.quality = {"root": 0.4}
        self._sim_lock = threading.Lock()

    def _work(self, kind: str) -> float:
        with self._sim_lock:
            k = self.started[kind]
            self.started[kind] += 1
        began = time.monotonic()
        time.sleep(self.latencies[kind][k] * self.unit)
        return began

    def _done(self, began: float) -> None:
        with self._sim_lock:
            self.busy_s += time.monotonic() - began

    def _evaluate(self, node: str, task_id: str) -> str:
        began = self._work("eval")
        resolved = random.Random(f"{self.seed}-{node}-{task_id}").random() < self.quality.get(node, 0.4)
        self.archive.record_evaluation(EvalRow(node=node, task=task_id, resolved=resolved,
                                               outcome="resolved" if resolved else "unresolved"))
        self._done(began)
        return f"{node} on {task_id}"

    def _expand(self, parent: str) -> str:
        began = self._work("expand")
        child = self.archive.add_child(parent)
        drift = random.Random(f"{self.seed}-{child}").gauss(0.02, 0.1)
        self.quality[child] = min(0.95, max(0.05, self.quality.get(parent, 0.4) + drift))
        self._done(began)
        return child


def run(policy: str, args, latencies: dict[str, list[float]]) -> dict:
    tasks = [Task(instance_id=f"t{i:02d}", problem_statement="simulated") for i in range(args.tasks)]
    config = EvolveConfig(policy=policy, workers=args.workers, max_nodes=args.nodes,
                          max_evals=args.nodes * args.tasks, seed=args.seed,
                          params={"children_per_generation": args.children})
    with tempfile.TemporaryDirectory(prefix="evolve-schedule-") as tmp:
        search = SimulatedSearch(MemoryArchive(Path(tmp)), tasks, None, config, latencies=latencies,
                                 unit=args.unit, seed=args.seed)
        began = time.monotonic()
        search.run()
        wall = time.monotonic() - began
    return {"policy": policy, "wall_s": wall, "util": search.busy_s / (args.workers * wall),
            "nodes": len(search.archive.nodes()), "evals": len(search.archive.evaluations()),
            "busy_s": search.busy_s}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--nodes", type=int, default=13, help="nodes in the archive at the end (root + children)")
    ap.add_argument("--tasks", type=int, default=8, help="tasks per node: evaluations = nodes × tasks")
    ap.add_argument("--eval-median", type=float, default=1.0, help="median evaluation latency (units)")
    ap.add_argument("--expand-median", type=float, default=3.0, help="median expansion latency (units)")
    ap.add_argument("--sigma", type=float, default=1.0, help="lognormal sigma of both latencies")
    ap.add_argument("--unit", type=float, default=0.1, help="seconds per latency unit")
    ap.add_argument("--seed", type=int, default=0, help="first seed; repetition i uses seed + i")
    ap.add_argument("--reps", type=int, default=3, help="repetitions (each draws new latencies)")
    ap.add_argument("--children", type=int, default=PolicyConfig().children_per_generation,
                    help="dgm: children per generation (default: the dgm policy's default)")
    args = ap.parse_args()
    if (args.nodes - 1) % args.children:
        ap.error("--nodes must be 1 + a multiple of --children (dgm makes generations of --children children)")
    n_evals = args.nodes * args.tasks
    print(f"{args.workers} workers, dgm: {args.children} children per generation, {args.nodes} nodes × {args.tasks} tasks = {n_evals} evaluations; latencies "
          f"lognormal(sigma {args.sigma}), medians: evaluation {args.eval_median}, expansion {args.expand_median} "
          f"units of {args.unit}s; seeds {args.seed}..{args.seed + args.reps - 1}")
    ratios, utils = [], {"hgm": [], "dgm": []}
    base = args.seed
    for rep in range(args.reps):
        args.seed = base + rep
        rng = random.Random(args.seed)
        latencies = {"eval": [rng.lognormvariate(0, args.sigma) * args.eval_median for _ in range(n_evals + 64)],
                     "expand": [rng.lognormvariate(0, args.sigma) * args.expand_median
                                for _ in range(args.nodes + 64)]}
        results = [run("hgm", args, latencies), run("dgm", args, latencies)]
        for r in results:
            utils[r["policy"]].append(r["util"])
            print(f"seed {args.seed}  {r['policy']:<4} wall {r['wall_s']:6.2f}s  utilisation {100 * r['util']:5.1f} %  "
                  f"nodes {r['nodes']}  evaluations {r['evals']}  busy {r['busy_s']:.1f}s")
        ratios.append(results[0]["wall_s"] / results[1]["wall_s"])
        print(f"seed {args.seed}  ratio hgm/dgm {ratios[-1]:.2f}")
    mean = statistics.fmean
    print(f"ratio hgm/dgm wall-clock: {mean(ratios):.2f} (mean of {len(ratios)}; min {min(ratios):.2f}, max "
          f"{max(ratios):.2f}; target <= 0.7)")
    print(f"utilisation: hgm {100 * mean(utils['hgm']):.1f} % (target >= 90 %), dgm {100 * mean(utils['dgm']):.1f} %")


if __name__ == "__main__":
    main()
