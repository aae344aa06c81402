"""The self-improvement experiment in one command: evolve the seed with the local model on a
search set for a fixed budget, then compare the best node with the root on held-out tasks the
search never saw.

    .venv/bin/python bench/self_improvement.py --out runs/self-improvement
    .venv/bin/python bench/self_improvement.py --out runs/self-improvement --resume   # go on after a stop

1. The task sets, written once into OUT (kept on --resume, so the archive's task digest holds):
   bench/small's split.json halves (`search`, `held_out`) when bench/small is there, else
   bench/tasks split by FALLBACK_SPLIT; or your own with --search-tasks / --held-out-tasks.
2. Calibration (--calibrate K, default 3; 0 skips it): the root runs K times on every search
   task (`selfcoder eval`, one attempt each, run i at the i-th temperature of the attempt schedule,
   greedy first), and the search keeps the tasks it solved in a fraction within --band (default
   0.2-0.8): a task the root always or never solves cannot tell a better child from a worse one.
   OUT/calibration.json holds every task's count; OUT/search-calibrated.jsonl the chosen set.
3. `selfcoder evolve` on the search set (archive OUT/archive; hgm; --max-evals / --max-nodes /
   --max-usd are the budget; --scope which files a child may change; --diagnosis-view focused: the
   diagnosis model sees the host's finding about a failed run and the one agent file it points
   to), resumable.
4. `selfcoder archive compare best seed` on the held-out set (OUT/archive/compare/...), resumable.
5. The result: nodes made / valid / invalid / failed, nodes evaluated, the best node and its
   diff, held-out solve rates with 95 % Wilson intervals, the exact McNemar p (and whether the
   set can reach p < 0.05 at all), printed and written to OUT/result.json and OUT/result.md.

Every agent run has the caps of bench/solve_rate.py (--max-steps 10, --time-limit 120 s per run),
except a parent's run on its own code (--modify-time-limit, default 600 s).
Every step is a selfcoder command run as a user runs it; a Ctrl-C or a kill loses nothing
finished: run the same command with --resume.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from selfcoder.core.files import atomic_write  # noqa: E402

SMALL = ROOT / "bench" / "small"
TASKS = ROOT / "bench" / "tasks"
# bench/tasks, when bench/small is not there: half its tasks to search on, half held out
FALLBACK_SPLIT = {"search": ["average_rating", "chunked", "leap_year", "median", "slugify", "word_count"],
                  "held_out": ["dedupe", "durations", "inclusive_range", "paginate"]}


def write_task_sets(out: Path) -> tuple[Path, Path, Path]:
    """(search set, held-out set, the root their repositories lie in), written once."""
    sys.path.insert(0, str(TASKS))
    from task_set import instance, split_names
    from check_tasks import task_dirs

    root = SMALL if (SMALL / "split.json").is_file() else TASKS
    out.mkdir(parents=True, exist_ok=True)
    files = {half: out / f"{half}.jsonl" for half in ("search", "held_out")}
    for half, path in files.items():
        if path.is_file():
            continue
        names = split_names(root, half) if root == SMALL else FALLBACK_SPLIT[half]
        prefix = "bugfix" if root == TASKS else root.name
        rows = [instance(t, prefix) for t in task_dirs(names, root)]
        atomic_write(path, "".join(json.dumps(r) + "\n" for r in rows))
        print(f"wrote {len(rows)} {half} tasks to {path}", flush=True)
    return files["search"], files["held_out"], root


AGENT_ENV: dict[str, str] = {}  # the agents' caps (main() fills it): every selfcoder command gets them


def selfcoder(*args: str, check: bool = True, capture: bool = False, env: dict[str, str] | None = None,
              ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "selfcoder", *args], text=True,
                          stdout=subprocess.PIPE if capture else None, env={**os.environ, **AGENT_ENV, **(env or {})})
    if check and proc.returncode not in ok:
        raise SystemExit(f"selfcoder {args[0]} {args[1] if len(args) > 1 else ''} exited {proc.returncode}")
    return proc


def calibrate(out: Path, candidates: Path, runs: int, band: tuple[float, float], where: list[str], model: str,
              workers: int) -> tuple[Path, dict]:
    """The search set: the candidates the root solved in a fraction of `runs` runs within `band`,
    written once (OUT/search-calibrated.jsonl); each run is a resumable `selfcoder eval`. An
    instance that ended in an error (the model or a sandbox failed, not the agent) is left out of its
    task's count rather than counted as a failure."""
    from selfcoder.core.config import load_settings
    from selfcoder.llm.sampling import attempt_sampling

    chosen_path, table_path = out / "search-calibrated.jsonl", out / "calibration.json"
    if chosen_path.is_file() and table_path.is_file():
        return chosen_path, json.loads(table_path.read_text())
    agent = load_settings(None).settings.agent
    rows = [json.loads(line) for line in candidates.read_text().splitlines() if line.strip()]
    counts = {r["instance_id"]: {"solved": 0, "runs": 0} for r in rows}
    temperatures = []
    for i in range(1, runs + 1):
        temperature = attempt_sampling(agent, i, runs, "calibration").temperature  # the attempt schedule's i-th
        temperatures.append(temperature)
        run_out = out / "calibration" / f"run-{i}"
        print(f"calibration run {i}/{runs} (temperature {temperature:g}) on {len(rows)} tasks: {run_out}", flush=True)
        selfcoder("eval", str(candidates), "--out", str(run_out), "--agent", "seed", "--model", model,
                  "--workers", str(workers), *where, ok=(0, 1),
                  env={"SELFCODER_AGENT__ATTEMPTS": "1", "SELFCODER_AGENT__ATTEMPT_TEMPERATURES": json.dumps([temperature]),
                       "SELFCODER_AGENT__SEED": str(i)})
        report = json.loads((run_out / "report.json").read_text())
        for task in report["completed_ids"]:
            counts[task]["runs"] += 1
            counts[task]["solved"] += task in report["resolved_ids"]
    low, high = band
    for c in counts.values():
        c["rate"] = c["solved"] / c["runs"] if c["runs"] else None
        c["chosen"] = c["rate"] is not None and low <= c["rate"] <= high
    table = {"runs": runs, "temperatures": temperatures, "band": [low, high], "tasks": counts,
             "chosen": [t for t, c in counts.items() if c["chosen"]]}
    if not table["chosen"]:
        raise SystemExit(f"no search task was solved by the root in a fraction within {low:g}-{high:g} of {runs} runs "
                         f"(counts in {out / 'calibration'}): widen --band, or search on all of them with --calibrate 0")
    # the chosen rows with their repo_path made absolute: the file lies in OUT, not beside the candidates
    chosen = [{**r, **({"repo_path": str((candidates.parent / r["repo_path"]).resolve())} if r.get("repo_path") else {})}
              for r in rows if counts[r["instance_id"]]["chosen"]]
    atomic_write(chosen_path, "".join(json.dumps(r) + "\n" for r in chosen))
    atomic_write(table_path, json.dumps(table, indent=2) + "\n")
    return chosen_path, table


def calibration_text(table: dict) -> str:
    lines = [f"calibration: the root on {len(table['tasks'])} search tasks, {table['runs']} runs each "
             f"(temperatures {', '.join(f'{t:g}' for t in table['temperatures'])}); chosen when solved in "
             f"{table['band'][0]:g}-{table['band'][1]:g} of its runs: {len(table['chosen'])} tasks"]
    lines += [f"  {'*' if c['chosen'] else ' '} {task}: {c['solved']}/{c['runs']}" for task, c in table["tasks"].items()]
    return "\n".join(lines) + "\n"


def archive_summary(archive: Path) -> dict:
    from selfcoder.evolve.archive import Archive

    a = Archive(archive, lock=False)
    try:
        nodes = a.nodes()
        evals = a.evaluations()
        best, score = a.best()
        return {"nodes": len(nodes) - 1, "valid": sum(n.valid for n in nodes[1:]),
                "invalid": sum(n.status == "invalid" for n in nodes), "failed": sum(n.status == "failed" for n in nodes),
                "evaluated_nodes": len({e.node for e in evals}), "evaluations": len(evals),
                "spent_usd": a.db.spend()["cost_usd"], "best": best, "best_lower_bound": score,
                "best_diff": a.diff(best) if best and best != "root" else "",
                "best_problem": a.node(best).problem if best and best != "root" else None}
    finally:
        a.close()


def markdown(summary: dict, compared: dict | None, note: str) -> str:
    lines = [f"- children made: {summary['nodes']} ({summary['valid']} valid, {summary['invalid']} invalid, "
             f"{summary['failed']} failed); nodes evaluated: {summary['evaluated_nodes']}, "
             f"evaluations: {summary['evaluations']}, spent ${summary['spent_usd']:.4f}",
             f"- best node on the search set: {summary['best']}"]
    if compared:
        for side in compared["sides"]:
            low, high = side["wilson_95"] or (0, 1)
            lines.append(f"- held out, {side['node']}: {side['solved']}/{side['finished']} "
                         f"({(side['rate'] or 0):.2f}, 95 % Wilson [{low:.2f}, {high:.2f}])")
        p = compared["paired"]
        lines.append(f"- paired on {p['tasks']} tasks: solved only by {', '.join(f'{k} {v}' for k, v in p['solved_only_by'].items())}; "
                     f"exact McNemar p = {p['mcnemar_p']:.3f}" + (f" ({p['too_small']})" if p.get("too_small") else ""))
    if note:
        lines.append(f"- {note}")
    if summary["best_diff"]:
        lines += ["", f"The best node's change ({summary['best']}):", "", "```diff", summary["best_diff"].rstrip(), "```"]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="Evolve with the local model, then compare the best node with the "
                                 "root on held-out tasks.", epilog=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True, help="the experiment's directory (task sets, archive, result)")
    ap.add_argument("--resume", action="store_true", help="go on with OUT's archive and comparison")
    ap.add_argument("--model", default="local", help="the agents' model (default: local)")
    ap.add_argument("--diagnosis-model", help="the diagnosis model (default: --model)")
    ap.add_argument("--modify-model", help="the self-modification model (default: --model)")
    ap.add_argument("--scope", default="policies", help="which files a child may change (surface.toml; default policies)")
    ap.add_argument("--max-evals", type=int, default=150, help="the search's evaluations, the root's included")
    ap.add_argument("--max-nodes", type=int, default=12, help="the archive's nodes, the root included")
    ap.add_argument("--max-usd", type=float, help="spend at most this much on models (a hosted model)")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--max-steps", type=int, default=10, help="steps per agent run (default 10, as bench/solve_rate.py)")
    ap.add_argument("--time-limit", type=float, default=120.0, help="seconds per agent run (default 120)")
    ap.add_argument("--modify-time-limit", type=float, default=600.0,
                    help="seconds for a parent's run on its own code (default 600: on 2 cores a scaffold's first prompt "
                         "alone takes about a minute, and 120 s left no time for an edit)")
    ap.add_argument("--diagnosis-view", choices=("full", "focused"), default="focused",
                    help="what the diagnosis model is shown (default focused: the host's finding and its one agent file; "
                         "shown the whole failed run, the 1.5B model wrote a fix for the task instead)")
    ap.add_argument("--calibrate", type=int, default=3, metavar="K",
                    help="run the root K times on each search task and search on those it solves sometimes (default 3; 0: all)")
    ap.add_argument("--band", type=float, nargs=2, default=(0.2, 0.8), metavar=("LOW", "HIGH"),
                    help="the fraction of calibration runs a search task must be solved in (default 0.2 0.8)")
    ap.add_argument("--calibrate-only", action="store_true", help="stop after the calibration (see the search set first)")
    ap.add_argument("--admission-tests", help="the command a child's own tests run with (default: evolve's)")
    ap.add_argument("--search-tasks", type=Path, help="your own search set (JSONL) instead of bench/small's")
    ap.add_argument("--held-out-tasks", type=Path, help="your own held-out set (JSONL)")
    ap.add_argument("--repos-root", type=Path, help="where your task sets' repositories lie")
    args = ap.parse_args(argv)
    low, high = args.band
    if not 0 <= low <= high <= 1:
        ap.error(f"--band {low:g} {high:g}: give 0 <= LOW <= HIGH <= 1")
    if args.calibrate < 0 or args.max_steps < 1 or args.time_limit <= 0 or args.modify_time_limit < 1:
        ap.error("--calibrate must be 0 or more, --max-steps and --time-limit more than 0, --modify-time-limit 1 or more")
    AGENT_ENV.update(SELFCODER_AGENT__MAX_STEPS=str(args.max_steps), SELFCODER_AGENT__TIME_LIMIT_S=str(args.time_limit))
    out = args.out.resolve()
    archive = out / "archive"
    for started in (archive / "archive.db", out / "calibration"):
        if started.exists() and not args.resume:
            raise SystemExit(f"{started} exists: add --resume to go on with it, or choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    if args.search_tasks and args.held_out_tasks:
        search, held_out, repos = args.search_tasks.resolve(), args.held_out_tasks.resolve(), args.repos_root
    elif args.search_tasks or args.held_out_tasks:
        raise SystemExit("give both --search-tasks and --held-out-tasks, or neither")
    else:
        search, held_out, repos = write_task_sets(out)
    where = ["--repos-root", str(repos)] if repos else []
    models = [*(["--diagnosis-model", args.diagnosis_model] if args.diagnosis_model else []),
              *(["--modify-model", args.modify_model] if args.modify_model else [])]
    limits = ["--max-evals", str(args.max_evals), "--max-nodes", str(args.max_nodes), "--workers", str(args.workers),
              "--modify-time-limit", str(args.modify_time_limit),
              *(["--max-usd", str(args.max_usd)] if args.max_usd is not None else [])]
    calibration = None
    if (out / "search-calibrated.jsonl").is_file() or (args.calibrate and not (archive / "archive.db").exists()):
        candidates = search
        search, calibration = calibrate(out, candidates, args.calibrate, (low, high), where, args.model, args.workers)
        print(calibration_text(calibration), end="", flush=True)
        if not repos:  # the chosen set names the candidates' repositories, which lie beside the candidates
            where = ["--repos-root", str(candidates.parent)]
    if args.calibrate_only:
        return 0
    if (archive / "archive.db").exists():
        selfcoder("evolve", "--archive", str(archive), "--resume", "--tasks", str(search), *limits, *where,
                  "--model", args.model, *models)
    else:
        selfcoder("evolve", "--archive", str(archive), "--tasks", str(search), "--policy", "hgm", "--scope", args.scope,
                  "--diagnosis-view", args.diagnosis_view,
                  *limits, *where, "--model", args.model, *models,
                  *(["--admission-tests", args.admission_tests] if args.admission_tests else []))
    summary = archive_summary(archive)
    compared, note = None, ""
    if summary["best"] in (None, "root"):
        note = "no child ranks above the root on the search set: nothing to compare on the held-out set"
    else:
        proc = selfcoder("archive", "compare", "best", "seed", "--tasks", str(held_out), "--json", "-a", str(archive),
                         "--model", args.model, "--workers", str(args.workers), *where, capture=True)
        compared = json.loads(proc.stdout)
    result = {"summary": summary, "compare": compared, "note": note, "search_tasks": str(search), "calibration": calibration,
              "agent_caps": {"max_steps": args.max_steps, "time_limit_s": args.time_limit},
              "held_out_tasks": str(held_out), "model": args.model, "scope": args.scope}
    (out / "result.json").write_text(json.dumps(result, indent=2))
    text = markdown(summary, compared, note)
    (out / "result.md").write_text(text)
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
