"""Solve rate and time per task of the seed agent with the local model on small bug-fix tasks.

What it measures: for each task in bench/tasks/ (one module with one bug, a failing pytest file,
a one-line issue in PROBLEM.md; `bench/tasks/check_tasks.py` proves each is fixable), the full
`selfcoder solve` path on a temporary copy of the task's `repo/`: repo map, sandbox (settings'
backend, `local` = bubblewrap by default), the seed scaffold talking to the model through the
gateway, then validation of the patch in a fresh sandbox. A task counts as solved when the run's
status is `resolved` (validated: the failing tests pass, the others still pass). Tasks run one
after another; the local model server is started (and timed) once before the first task, so no
task pays for loading the model. The scaffold (`--agent`, default seed) is copied once at the
start and its git version printed, so edits to it during a long run cannot mix versions. The
agent gets at most 10 steps and 600 s per task by default (`--max-steps`, `--time-limit`; the
product's defaults are 30 steps and 1800 s), so a full run of the 1.5B model on a busy 2-core
machine stays within an hour or two.

    .venv/bin/python bench/local_solve.py                       # all tasks, the local 1.5B model
    .venv/bin/python bench/local_solve.py --limit 3 --max-steps 5
    .venv/bin/python bench/local_solve.py --model gpt-4o-mini --tasks median slugify --json

Prints a table (task, status, seconds, tokens, steps), the solve rate and the mean time per task.
Speed depends on the machine's load (the local model runs on `local_model.threads` CPU threads).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "tasks"))

from check_tasks import task_dirs  # noqa: E402  (bench/tasks/check_tasks.py)


def agent_steps(run_dir: Path) -> int | None:
    """Model replies the agent used, from its exit event in the run's trajectory."""
    from selfcoder.llm.trajectory import iter_trajectory

    path = run_dir / "trajectory.jsonl"
    if not path.exists():
        return None
    steps = None
    for record in iter_trajectory(path):
        if record.get("type") == "agent_exit" and "steps" in record:  # the scaffold's exit event
            steps = record["steps"]
    return steps


def snapshot_agent(node: str, scratch: Path) -> tuple[Path, str]:
    """Copy the scaffold once, so edits to it during a long run do not mix versions; with its
    git version (`+dirty` when its files differ from the commit)."""
    from selfcoder.scaffold import resolve_scaffold

    source = resolve_scaffold(node)
    copy = scratch / "agent"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    git = ["git", "-C", str(source)]
    commit = subprocess.run([*git, "log", "-1", "--format=%h", "--", "."], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run([*git, "status", "--porcelain", "--", "."], capture_output=True, text=True).stdout.strip()
    return copy, (commit or "untracked") + ("+dirty" if dirty else "")


def configure(args: argparse.Namespace):
    from selfcoder.config import load_settings

    settings = load_settings(None).settings
    settings.model.name = args.model
    settings.agent.node = str(args.agent_copy or args.agent)
    settings.agent.max_steps = args.max_steps
    settings.agent.time_limit_s = args.time_limit
    if args.sandbox is not None:
        settings.sandbox.backend = args.sandbox
    return settings


def warm_local_model(settings) -> tuple[object | None, float]:
    """Start (or join) the local model server once, so no task pays for loading it."""
    from selfcoder.llm.models import resolve

    if resolve(settings.model.name, settings.model.api_base).kind != "local":
        return None, 0.0
    from selfcoder.llm import local_server

    t0 = time.monotonic()
    lease = local_server.acquire(settings.local_model)
    return lease, time.monotonic() - t0


def solve_one(task_dir: Path, args: argparse.Namespace, scratch: Path) -> dict:
    from selfcoder.errors import SelfcoderError
    from selfcoder.solve_attempts import make_task, solve

    repo = scratch / task_dir.name
    shutil.copytree(task_dir / "repo", repo, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    problem = (task_dir / "PROBLEM.md").read_text().strip()
    row = {"task": task_dir.name, "status": "error", "seconds": 0.0, "tokens": 0, "steps": None,
           "agent_status": "", "message": "", "run_dir": ""}
    t0 = time.monotonic()
    try:
        result = solve(make_task(repo, problem, instance_id=task_dir.name), configure(args)).best
    except SelfcoderError as e:
        row.update(seconds=round(time.monotonic() - t0, 1), message=str(e))
        return row
    row.update(status=result.status, seconds=round(result.duration_s, 1),
               tokens=int(result.usage.get("total_tokens", 0)), steps=agent_steps(result.run_dir),
               agent_status=result.agent_status, message=result.message[:200], run_dir=str(result.run_dir),
               phases=result.phase_durations_s)
    return row


def summarize(rows: list[dict]) -> dict:
    solved = [r for r in rows if r["status"] == "resolved"]
    secs = [r["seconds"] for r in rows]
    return {
        "tasks": len(rows),
        "solved": len(solved),
        "solve_rate": len(solved) / len(rows) if rows else 0.0,
        "mean_s_per_task": statistics.mean(secs) if secs else 0.0,
        "median_s_per_task": statistics.median(secs) if secs else 0.0,
        "mean_s_solved": statistics.mean([r["seconds"] for r in solved]) if solved else None,
        "mean_tokens_per_task": statistics.mean([r["tokens"] for r in rows]) if rows else 0.0,
    }


def print_row(row: dict) -> None:
    steps = "-" if row["steps"] is None else str(row["steps"])
    print(f"{row['task']:<18}{row['status']:<16}{row['seconds']:>9.1f}{row['tokens']:>9}{steps:>7}  "
          f"{row['agent_status']}", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="local", help="model name as for `selfcoder solve --model` (default: local)")
    ap.add_argument("--limit", type=int, default=None, help="run only the first N tasks (by name)")
    ap.add_argument("--tasks", nargs="*", default=None, help="run only these tasks (directory names)")
    ap.add_argument("--max-steps", type=int, default=10, help="agent step cap per task (default 10; settings say 30)")
    ap.add_argument("--time-limit", type=float, default=600, help="agent time limit per task in s (default 600)")
    ap.add_argument("--agent", default="seed", help="scaffold: archive node or directory (default: seed)")
    ap.add_argument("--sandbox", default=None, help="sandbox backend (default: settings, local)")
    ap.add_argument("--keep", action="store_true", help="keep the task copies and their run dirs")
    ap.add_argument("--json", action="store_true", help="print rows and summary as JSON at the end")
    args = ap.parse_args()

    tasks = task_dirs(args.tasks)[: args.limit] if args.limit else task_dirs(args.tasks)
    if not tasks:
        print("no tasks", file=sys.stderr)
        return 2
    scratch = Path(tempfile.mkdtemp(prefix="selfcoder-local-solve-"))
    from selfcoder.errors import SelfcoderError

    try:
        args.agent_copy, version = snapshot_agent(args.agent, scratch)
        settings = configure(args)
        lease, warm_s = warm_local_model(settings)
    except SelfcoderError as e:
        print(f"error: {e}", file=sys.stderr)
        shutil.rmtree(scratch, ignore_errors=True)
        return 2
    print(f"model {settings.model.name} | sandbox {settings.sandbox.backend} | agent {args.agent} {version} | "
          f"max_steps {settings.agent.max_steps} | time_limit {settings.agent.time_limit_s:.0f} s | "
          f"{len(tasks)} tasks" + (f" | model server ready in {warm_s:.1f} s" if lease else ""), flush=True)
    print(f"{'task':<18}{'status':<16}{'seconds':>9}{'tokens':>9}{'steps':>7}  agent exit", flush=True)
    rows: list[dict] = []
    started = time.monotonic()
    try:
        for task_dir in tasks:
            rows.append(solve_one(task_dir, args, scratch))
            print_row(rows[-1])
    except KeyboardInterrupt:
        print("interrupted: summary of the tasks that finished", file=sys.stderr)
    finally:
        if lease is not None:
            lease.release()
        if args.keep:
            print(f"task copies and run dirs kept in {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    summary = summarize(rows)
    summary["wall_s"] = round(time.monotonic() - started, 1)
    print(f"solved {summary['solved']}/{summary['tasks']} ({100 * summary['solve_rate']:.0f} %) | "
          f"mean {summary['mean_s_per_task']:.1f} s per task (median {summary['median_s_per_task']:.1f} s"
          + (f", solved ones {summary['mean_s_solved']:.1f} s" if summary["mean_s_solved"] is not None else "")
          + f") | mean {summary['mean_tokens_per_task']:.0f} tokens per task | wall {summary['wall_s']:.0f} s")
    if args.json:
        print(json.dumps({"model": settings.model.name, "agent": f"{args.agent} {version}", "rows": rows,
                          "summary": summary}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
