"""The self-improvement experiment in one command: evolve the seed with the local model on a
search set for a fixed budget, then compare the best node with the root on held-out tasks the
search never saw.

    .venv/bin/python bench/self_improvement.py --out runs/self-improvement
    .venv/bin/python bench/self_improvement.py --out runs/self-improvement --resume   # go on after a stop

1. The task sets, written once into OUT (kept on --resume, so the archive's task digest holds):
   bench/small's split.json halves (`search`, `held_out`) when bench/small is there, else
   bench/tasks split by FALLBACK_SPLIT; or your own with --search-tasks / --held-out-tasks.
2. `selfcoder evolve` on the search set (archive OUT/archive; hgm; --max-evals / --max-nodes /
   --max-usd are the budget; --scope which files a child may change), resumable.
3. `selfcoder archive compare best seed` on the held-out set (OUT/archive/compare/...), resumable.
4. The result: nodes made / valid / invalid / failed, nodes evaluated, the best node and its
   diff, held-out solve rates with 95 % Wilson intervals, the exact McNemar p (and whether the
   set can reach p < 0.05 at all), printed and written to OUT/result.json and OUT/result.md.

Every step is a selfcoder command run as a user runs it; a Ctrl-C or a kill loses nothing
finished: run the same command with --resume.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
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
        tmp = path.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(r) + "\n" for r in rows))
        tmp.rename(path)
        print(f"wrote {len(rows)} {half} tasks to {path}", flush=True)
    return files["search"], files["held_out"], root


def selfcoder(*args: str, check: bool = True, capture: bool = False) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "selfcoder", *args], text=True,
                          stdout=subprocess.PIPE if capture else None)
    if check and proc.returncode != 0:
        raise SystemExit(f"selfcoder {args[0]} {args[1] if len(args) > 1 else ''} exited {proc.returncode}")
    return proc


def archive_summary(archive: Path) -> dict:
    sys.path.insert(0, str(ROOT))
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
    ap.add_argument("--admission-tests", help="the command a child's own tests run with (default: evolve's)")
    ap.add_argument("--search-tasks", type=Path, help="your own search set (JSONL) instead of bench/small's")
    ap.add_argument("--held-out-tasks", type=Path, help="your own held-out set (JSONL)")
    ap.add_argument("--repos-root", type=Path, help="where your task sets' repositories lie")
    args = ap.parse_args(argv)
    out = args.out.resolve()
    archive = out / "archive"
    if (archive / "archive.db").exists() and not args.resume:
        raise SystemExit(f"{archive} exists: add --resume to go on with it, or choose another --out")
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
              *(["--max-usd", str(args.max_usd)] if args.max_usd is not None else [])]
    if (archive / "archive.db").exists():
        selfcoder("evolve", "--archive", str(archive), "--resume", "--tasks", str(search), *limits, *where,
                  "--model", args.model, *models)
    else:
        selfcoder("evolve", "--archive", str(archive), "--tasks", str(search), "--policy", "hgm", "--scope", args.scope,
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
    result = {"summary": summary, "compare": compared, "note": note, "search_tasks": str(search),
              "held_out_tasks": str(held_out), "model": args.model, "scope": args.scope}
    (out / "result.json").write_text(json.dumps(result, indent=2))
    text = markdown(summary, compared, note)
    (out / "result.md").write_text(text)
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
