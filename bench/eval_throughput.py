"""Grading throughput: instances per minute grading gold predictions with 1 and 2 workers, and the
per-instance overhead beyond the test run itself.

Why: an evaluation is dominated by grading (a fresh sandbox per instance, the patch applied with
the fallback chain, the verdict files restored, the tests run and parsed). The workers should
scale with the cores, and everything but the test command should cost little next to it.

    .venv/bin/python bench/eval_throughput.py                          # builds a small set first
    .venv/bin/python bench/eval_throughput.py --tasks OUT/tasks.jsonl --limit 12

Without --tasks, a small set is built with `bench gen` from a cached sdist of the recipe
(more-itertools 10.5.0, else toolz 1.0.0; Python 3.11 + pytest: run the recipe once first), else
from the fixture sdist of tests/fixtures/sdists (offline, but its test run is so short that
fixed costs dominate).
The overhead is read from the grading records (`instances/<id>.json`: `wall_s` = everything,
`test_s` = the test command's own run time), from the 1-worker run (no contention).
Targets: scaling 2 vs 1 workers >= 1.7x on 2 cores; overhead < 10 % of the test time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FIXTURE = ROOT / "tests" / "fixtures" / "sdists" / "minicalc-0.1.0"
SCALING_TARGET, OVERHEAD_TARGET = 1.7, 0.10
CACHED = ("more-itertools==10.5.0", "toolz==1.0.0")  # the recipe's; the first one in the sdist cache is used


def build_set(work: Path, count: int) -> Path:
    from selfcoder.core.config import load_settings
    from selfcoder.taskgen.build import GenConfig, generate, write_task_set
    from selfcoder.taskgen.sdist import cache_root

    settings = load_settings(None).settings
    cached = [spec for spec in CACHED if (cache_root() / spec.replace("==", "-")).is_dir()]
    if cached:
        cfg = GenConfig(sdist=cached[0], count=count, seed=1, python="3.11", requirements=["pytest==8.3.3"])
    else:
        archive = work / "minicalc-0.1.0.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(FIXTURE, arcname="minicalc-0.1.0")
        cfg = GenConfig(sdist=str(archive), count=count, seed=1)
    print(f"building {count} tasks from {cfg.sdist} ...", flush=True)
    result = generate(cfg, work / "set", backend=settings.sandbox.backend, workers=2)
    return write_task_set(work / "set", result.instances)


def grade(tasks_file: Path, limit: int | None, workers: int, out: Path) -> tuple[float, dict, list[dict]]:
    from selfcoder.core.config import load_settings
    from selfcoder.eval.evaluate import Evaluation
    from selfcoder.eval.predictions import builtin_predictions
    from selfcoder.eval.tasks import load_task_set, select

    settings = load_settings(None).settings
    tasks = select(load_task_set(tasks_file).tasks, None, limit)
    started = time.monotonic()
    report = Evaluation(tasks, out, settings=settings, predictions=builtin_predictions("gold", tasks),
                        workers=workers).run()
    wall = time.monotonic() - started
    records = [json.loads(p.read_text()) for p in sorted((out / "instances").glob("*.json"))]
    return wall, report, records


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=Path, help="a task set (default: build a small one with bench gen)")
    parser.add_argument("--limit", type=int, default=None, help="grade only the first N instances")
    parser.add_argument("--count", type=int, default=8, help="tasks to build when --tasks is not given")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON too")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (task set, grading records)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="selfcoder-bench-throughput-"))
    work.chmod(0o755)
    try:
        return measure(args, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def measure(args: argparse.Namespace, work: Path) -> int:
    tasks_file = args.tasks or build_set(work, args.count)
    # warm-up: the environment built and cached, the interpreter's pages in memory
    grade(tasks_file, 1, 1, work / "warmup")
    rates, results = {}, {}
    for workers in (1, 2):
        wall, report, records = grade(tasks_file, args.limit, workers, work / f"w{workers}")
        n = report["total_instances"]
        rates[workers] = n / wall * 60
        results[workers] = records
        print(f"workers={workers}: {n} instances in {wall:.1f} s = {rates[workers]:.1f} instances/min "
              f"(resolved {report['resolved_instances']}/{n}, errors {report['error_instances']})", flush=True)
    ratio = rates[2] / rates[1]
    cores = os.cpu_count()
    print(f"scaling 2 vs 1 workers: {ratio:.2f}x (target >= {SCALING_TARGET}x on 2 cores; this machine: {cores} cores, "
          "shared)")
    one = results[1]
    test_s = statistics.mean(r["test_s"] for r in one)
    other_s = statistics.mean(r["wall_s"] - r["test_s"] for r in one)
    print(f"per instance (1 worker): test run {test_s:.2f} s, everything else {other_s:.2f} s = "
          f"{other_s / test_s:.0%} of the test time (target < {OVERHEAD_TARGET:.0%})")
    if args.json:
        print(json.dumps({"instances_per_min": rates, "scaling": ratio, "test_s": test_s, "overhead_s": other_s,
                          "overhead_ratio": other_s / test_s, "tasks": str(tasks_file)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
