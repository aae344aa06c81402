"""Solve rate of selfcoder and of mini-swe-agent side by side: same tasks, same model, same caps, one run.

For each task of a task set (default: the 14 one-bug tasks of bench/tasks; `--root bench/small
--split held_out` for a half of the generated set), each system gets a fresh copy of the task's
repository and the task's problem statement:

- selfcoder: the `selfcoder solve` path (bench/local_solve.py), `--attempts N`, scaffold `--agent`;
- mini-swe-agent, pinned (bench/solve_rate_mini.py), in a venv of its own, with a config it ships;
  the model's commands run in Docker (selfcoder's offline base image, no network);
- `variant`: selfcoder with settings changed by `--variant SECTION.KEY=VALUE` (as the environment's
  SELFCODER_SECTION__KEY would set them; `agent.node=DIR` for another scaffold): a change and its
  baseline measured in one run, task by task back to back (`--systems selfcoder,variant`).

Both talk to the same model (default: the local llama.cpp server, started once), with the same step
and time caps per attempt. Both systems' patches are graded the same way, by selfcoder's eval on the
task set (bench/tasks/task_set.py measures FAIL_TO_PASS and PASS_TO_PASS): a task is solved when the
FAIL_TO_PASS tests pass and the PASS_TO_PASS ones still pass.

Every result is saved the moment it exists under `--out DIR` (the task set, one JSON per task and
system, predictions JSONL per system, the eval records, selfcoder's run dirs, mini's trajectories);
`--resume` goes on where a killed run stopped. Prints the machine and the build, a per-task table,
each system's solve rate with its 95 % Wilson interval, mean time and tokens per task, and McNemar's
exact p on the paired outcomes (`--json`: the same as JSON; always in DIR/report.json).

    .venv/bin/python bench/solve_rate.py                                  # both systems, 14 tasks, local model
    .venv/bin/python bench/solve_rate.py --attempts 3 --agent archive/seed --out runs/sr --resume
    .venv/bin/python bench/solve_rate.py --root bench/small --split held_out --systems selfcoder
    .venv/bin/python bench/solve_rate.py --tasks median --max-steps 3 --json
    .venv/bin/python bench/solve_rate.py --systems selfcoder,variant --variant agent.max_temperature=0 --attempts 5
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "bench" / "tasks"))

import local_solve  # noqa: E402  (selfcoder's side)
import solve_rate_mini as mini  # noqa: E402  (the peer's side)
from solve_rate_report import build, build_report, machine, render, render_header  # noqa: E402
from solve_rate_tasks import Problem, load_tasks  # noqa: E402

SYSTEMS = ("selfcoder", "variant", "mini")
SAME_RUN = ("systems", "model", "attempts", "agent", "max_steps", "time_limit_s", "mini_time_limit_s", "mini_config",
            "mini_temperature", "mini_max_tokens", "variant")
# what the benchmark sets for every system alike: a variant may not change it
FIXED_BY_THE_BENCHMARK = {"model.name": "--model", "model.api_base": "--model", "agent.max_steps": "--max-steps",
                          "agent.time_limit_s": "--time-limit", "agent.attempts": "--attempts",
                          "sandbox.backend": "--sandbox", "run.runs_dir": "its --out"}


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", type=Path, default=ROOT / "bench" / "tasks", help="directory of tasks (default bench/tasks)")
    ap.add_argument("--split", default=None, help="only this half of ROOT/split.json (search or held_out)")
    ap.add_argument("--tasks", nargs="*", default=None, help="only these tasks (directory names or instance ids)")
    ap.add_argument("--limit", type=int, default=None, help="only the first N tasks")
    ap.add_argument("--systems", default="selfcoder,mini",
                    help="comma-separated: selfcoder, variant, mini (default selfcoder,mini)")
    ap.add_argument("--variant", action="append", default=[], metavar="SECTION.KEY=VALUE",
                    help="a setting of the `variant` system (selfcoder with it changed), repeatable; "
                         "e.g. agent.max_temperature=0, agent.node=DIR")
    ap.add_argument("--model", default="local", help="model for both systems, as for `selfcoder solve --model` (default local)")
    ap.add_argument("--attempts", type=int, default=1, help="selfcoder's attempts per task (default 1)")
    ap.add_argument("--agent", default="seed", help="selfcoder's scaffold: archive node or directory (default seed)")
    ap.add_argument("--max-steps", type=int, default=10, help="step cap per attempt, both systems (default 10)")
    ap.add_argument("--time-limit", type=float, default=600, help="time cap per attempt in s, both systems (default 600)")
    ap.add_argument("--mini-time-limit", type=float, default=None,
                    help="time cap of mini's one attempt in s (default: --time-limit; attempts x --time-limit gives "
                         "it selfcoder's whole budget per task)")
    ap.add_argument("--sandbox", default=None, help="selfcoder's sandbox backend and the grading's (default: settings)")
    ap.add_argument("--mini-config", default=mini.DEFAULT_CONFIG, help=f"a config mini ships (default {mini.DEFAULT_CONFIG})")
    ap.add_argument("--mini-temperature", type=float, default=0.0, help="mini's sampling temperature (default 0, as selfcoder's first attempt)")
    ap.add_argument("--mini-max-tokens", type=int, default=None,
                    help="the longest reply mini may ask for (default: selfcoder's model.max_tokens, the same cap per "
                         "reply; 0: none, as mini's own config: a runaway reply then runs to the end of the context)")
    ap.add_argument("--mini-model", default=None, help="litellm model name for mini when --model is not local (e.g. openai/NAME)")
    ap.add_argument("--mini-api-base", default=None, help="API base URL for mini when --model is not local")
    ap.add_argument("--mini-api-key", default="x", help="API key for --mini-api-base")
    ap.add_argument("--out", type=Path, default=None, help="results directory (default: a new one under the cache dir)")
    ap.add_argument("--resume", action="store_true", help="go on with the results already in --out")
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    return ap.parse_args(argv)


class UsageError(Exception):
    """A mistake in the options or the environment: printed as one line, exit 2."""


def run_config(args) -> dict:
    return {"systems": args.systems_list, "model": args.model, "attempts": args.attempts, "agent": args.agent,
            "max_steps": args.max_steps, "time_limit_s": args.time_limit, "mini_time_limit_s": args.mini_time_limit,
            "mini_config": args.mini_config,
            "mini_temperature": args.mini_temperature, "mini_max_tokens": args.mini_max_tokens, "variant": args.variant}


def variant_env(pairs: list[str]) -> dict[str, str]:
    """`SECTION.KEY=VALUE` pairs as the environment variables selfcoder's settings read."""
    env = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        section, dot, name = key.partition(".")
        if not sep or not dot or not section or not name:
            raise UsageError(f"--variant {pair!r}: give SECTION.KEY=VALUE, e.g. agent.max_temperature=0")
        if key in FIXED_BY_THE_BENCHMARK:
            raise UsageError(f"--variant {key}: the benchmark sets it for every system ({FIXED_BY_THE_BENCHMARK[key]})")
        if section == "local_model":
            raise UsageError(f"--variant {key}: every system shares the one model server the benchmark starts")
        env[f"SELFCODER_{section.upper()}__{name.upper()}"] = value
    return env


def open_out(args) -> Path:
    """The results dir: new, or (with --resume) one an earlier run with the same options left."""
    if args.out is None:
        from selfcoder.llm.local_server import cache_dir

        args.out = cache_dir() / "bench" / "solve-rate" / time.strftime("%Y%m%d-%H%M%S")
    out, config = args.out.resolve(), run_config(args)
    saved = out / "run.json"
    if saved.exists() and (out / "results").exists():  # a run that stopped before its first result holds nothing
        if not args.resume:
            raise UsageError(f"{out} holds an earlier run: add --resume to go on with it, or choose another --out")
        before = json.loads(saved.read_text())
        before.setdefault("mini_time_limit_s", before.get("time_limit_s"))  # made before the option: --time-limit
        before.setdefault("variant", [])  # made before the option
        before.setdefault("mini_max_tokens", 0)  # made before the option: mini's replies were not capped
        changed = [k for k in SAME_RUN if before.get(k) != config.get(k)]
        if changed:
            raise UsageError(f"{out} was run with other options ({', '.join(f'{k} {before.get(k)}' for k in changed)}): "
                             "resume with the same ones, or choose another --out")
    elif not saved.exists() and out.exists() and any(out.iterdir()):
        raise UsageError(f"{out} exists and is not a solve_rate results dir: choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    saved.write_text(json.dumps(config, indent=2))
    return out


class Bench:
    """One benchmark run: the systems prepared once, then task after task, each result saved and graded."""

    def __init__(self, args, out: Path, scratch: Path):
        self.args, self.out, self.scratch = args, out, scratch
        self.lease = None
        self.settings = local_solve.configure(args.model, args.agent, args.max_steps, args.time_limit, args.sandbox,
                                              runs_dir=out / "runs" / "selfcoder")
        self.variant = None
        if "variant" in args.systems_list:
            env = dict(args.variant_env)
            agent = env.pop("SELFCODER_AGENT__NODE", args.agent)
            self.variant = local_solve.configure(args.model, agent, args.max_steps, args.time_limit, args.sandbox,
                                                 runs_dir=out / "runs" / "variant", env={**os.environ, **env})
        self.versions: dict[str, str] = {}

    def prepare(self) -> None:
        args = self.args
        if "selfcoder" in args.systems_list:
            copy, version = local_solve.snapshot_agent(args.agent, self.scratch)
            self.settings.agent.node = str(copy)
            self.versions["scaffold"] = f"{args.agent} {version}"
        if self.variant is not None:
            node = self.variant.agent.node
            copy, version = local_solve.snapshot_agent(node, self.scratch, "agent-variant")
            self.variant.agent.node = str(copy)
            self.versions["variant_scaffold"] = f"{node} {version}"
        if "mini" in args.systems_list:
            mini.check_docker(self.settings.sandbox.image)
            self.mini_python = mini.ensure_mini(log=lambda line: print(line, flush=True))
            self.versions["mini_swe_agent"] = mini.version_of(self.mini_python)
        self.lease, warm_s = local_solve.warm_local_model(self.settings)
        if self.lease is not None:
            self.versions["server_ready_s"] = f"{warm_s:.1f}"
        if "mini" in args.systems_list:
            if self.lease is not None:
                self.endpoint = mini.local_endpoint(self.lease)
            elif args.mini_model and args.mini_api_base:
                self.endpoint = mini.Endpoint(args.mini_model, args.mini_api_base, args.mini_api_key)
            else:
                raise UsageError(f"--model {args.model} is not the local model: tell mini where the same model is "
                                 "with --mini-model and --mini-api-base")

    def header(self) -> dict:
        config = {**run_config(self.args), "tasks": len(self.problems), "root": str(self.args.root),
                  "split": self.args.split or "all", "sandbox": self.settings.sandbox.backend, "out": str(self.out)}
        return {"machine": machine(), "build": {**build(self.settings, self.lease), **self.versions}, "config": config}

    def result_path(self, system: str, task_id: str) -> Path:
        return self.out / "results" / system / f"{task_id}.json"

    def load_results(self) -> dict[str, dict[str, dict]]:
        results: dict[str, dict[str, dict]] = {s: {} for s in self.args.systems_list}
        for system in self.args.systems_list:
            for p in self.problems:
                path = self.result_path(system, p.task.instance_id)
                if path.exists():
                    results[system][p.task.instance_id] = json.loads(path.read_text())
        return results

    def run_system(self, system: str, problem: Problem) -> dict:
        task = problem.task
        run_dir = self.out / "runs" / system / task.instance_id
        if system in ("selfcoder", "variant"):
            settings = self.settings if system == "selfcoder" else self.variant
            return local_solve.solve_one(task, settings, self.scratch, self.args.attempts, run_dir)
        repo = local_solve.copy_repo(Path(task.repo_path), self.scratch / "mini" / task.instance_id)
        return mini.solve_one(self.mini_python, repo, task.problem_statement, self.endpoint,
                              image=self.settings.sandbox.image, max_steps=self.args.max_steps,
                              time_limit_s=self.args.mini_time_limit, run_dir=run_dir, config=self.args.mini_config,
                              temperature=self.args.mini_temperature, max_tokens=self.args.mini_max_tokens or None)

    def grade(self, system: str, problem: Problem, patch: str) -> dict:
        """selfcoder's eval on the task set's instance: the same grading for both systems."""
        from selfcoder.eval.evaluate import Evaluation
        from selfcoder.eval.predictions import prediction

        task_id = problem.task.instance_id
        preds = {task_id: prediction(task_id, system, patch)}
        evaluation = Evaluation([problem.task], self.out / "eval" / system, settings=self.settings, predictions=preds)
        evaluation.run()
        record = evaluation.store.get(task_id) or {"outcome": "error", "message": "no record"}
        return {"outcome": record["outcome"], "grade_message": (record.get("message") or "")[:300]}

    def save(self, system: str, row: dict) -> None:
        path = self.result_path(system, row["task"])
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(row, indent=2))
        tmp.replace(path)  # a kill never leaves half a result
        preds = [json.loads(p.read_text()) for p in sorted(path.parent.glob("*.json"))]
        lines = "".join(json.dumps({"instance_id": r["task"], "model_name_or_path": system,
                                    "model_patch": r["patch"]}) + "\n" for r in preds)
        (self.out / f"predictions-{system}.jsonl").write_text(lines)

    def run(self) -> dict[str, dict[str, dict]]:
        results = self.load_results()
        total = len(self.problems)
        for i, problem in enumerate(self.problems, 1):
            task_id = problem.task.instance_id
            for system in self.args.systems_list:
                if task_id in results[system]:
                    continue
                row = {"task": task_id, "system": system, **self.run_system(system, problem)}
                if self.lease is not None:  # a reply the run gave up on may still be computing: not the next run's time
                    row["server_busy_after_s"] = local_solve.wait_until_idle(self.lease)
                row.update(self.grade(system, problem, row["patch"]))
                row["resolved"] = row["outcome"] == "resolved"
                self.save(system, row)
                results[system][task_id] = row
                steps = "-" if row["steps"] is None else row["steps"]
                print(f"[{i}/{total}] {problem.name:<20} {system:<10} {'SOLVED' if row['resolved'] else row['outcome']:<12}"
                      f"{row['seconds']:>7.1f} s {row['tokens']:>7} tokens {steps:>3} steps  "
                      f"({row['exit'] or row['status']}{': ' + row['message'][:80] if row['message'] else ''})"
                      + (f" [server busy {row['server_busy_after_s']:.0f} s after the run]"
                         if (row.get("server_busy_after_s") or 0) >= 5 else ""),
                      flush=True)
        return results


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    args.systems_list = [s.strip() for s in args.systems.split(",") if s.strip()]
    from selfcoder.core.errors import SelfcoderError

    scratch = Path(tempfile.mkdtemp(prefix="selfcoder-solve-rate-"))
    bench = None
    try:
        unknown = sorted(set(args.systems_list) - set(SYSTEMS))
        if unknown or not args.systems_list:
            raise UsageError(f"unknown system(s) {', '.join(unknown) or '(none)'}: choose from {', '.join(SYSTEMS)}")
        if ("variant" in args.systems_list) != bool(args.variant):
            raise UsageError("the variant system needs its settings (--variant SECTION.KEY=VALUE), and --variant "
                             "needs `variant` in --systems")
        from selfcoder.core.config import load_settings
        from selfcoder.core.errors import ConfigError

        args.variant_env = variant_env(args.variant)
        if args.variant_env:  # a bad setting is one line before anything is written
            try:
                load_settings(None, {**os.environ, **args.variant_env})
            except ConfigError as e:
                raise UsageError(f"--variant: {str(e).removeprefix('environment: ')}") from None
        args.mini_time_limit = args.time_limit if args.mini_time_limit is None else args.mini_time_limit
        if args.mini_max_tokens is None:
            args.mini_max_tokens = load_settings(None).settings.model.max_tokens
        if args.attempts < 1 or args.max_steps < 1 or args.time_limit <= 0 or args.mini_time_limit <= 0:
            raise UsageError("--attempts and --max-steps must be at least 1, --time-limit and --mini-time-limit above 0")
        if args.mini_max_tokens < 0:
            raise UsageError("--mini-max-tokens must be 0 (no cap) or more")
        out = open_out(args)
        bench = Bench(args, out, scratch)
        bench.problems = load_tasks(args.root, out, split=args.split, names=args.tasks, limit=args.limit,
                                    log=lambda line: print(line, flush=True))
        bench.prepare()
        header = bench.header()
        print(render_header(header), flush=True)
        print(f"results in {out} (a killed run goes on with --out {out} --resume)", flush=True)
        try:
            results = bench.run()
        except KeyboardInterrupt:
            print(f"interrupted: the report covers the tasks that finished; go on with --out {out} --resume",
                  file=sys.stderr)
            results = bench.load_results()
    except (UsageError, SelfcoderError, mini.MiniUnavailable) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # while preparing: nothing ran yet
        print("interrupted before the first task", file=sys.stderr)
        return 130
    finally:
        if bench is not None and bench.lease is not None:
            bench.lease.release()
        shutil.rmtree(scratch, ignore_errors=True)
    report = build_report(results, [p.task.instance_id for p in bench.problems], args.systems_list, header=header)
    report["machine"]["load_at_end"] = machine()["load"]
    (out / "report.json").write_text(json.dumps(report, indent=2))
    print()
    print(render({k: v for k, v in report.items() if k not in ("machine", "build", "config")}))
    print(f"load at the end: {' '.join(f'{x:.2f}' for x in report['machine']['load_at_end'])}")
    if args.json:
        print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
