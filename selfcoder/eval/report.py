"""report.json (the official harness's run report, plus cost and time per instance, and how each
was graded: `parser` and `grading` say whether the official swebench package's own functions did
it) and the summary table."""

from __future__ import annotations

import json
from pathlib import Path

from selfcoder.eval.predictions import write_predictions
from selfcoder.core.files import atomic_write
from selfcoder.core.task import Task

SCHEMA_VERSION = 2


def build_report(tasks: list[Task], records: dict[str, dict], *, submitted: list[str],
                 problems: list[str] = (), model: str = "") -> dict:
    """The official fields (`resolved_ids`, `unresolved_ids`, `empty_patch_ids`, `error_ids`,
    `completed_ids`, `incomplete_ids`, counts) for `tasks`, then selfcoder's per-instance numbers."""
    ids = [t.instance_id for t in tasks]
    done = {i: records[i] for i in ids if i in records}
    by = {k: [i for i, r in done.items() if r["outcome"] == k] for k in ("resolved", "unresolved", "empty_patch", "error")}
    completed = by["resolved"] + by["unresolved"]
    instances = {
        i: {k: r.get(k) for k in ("outcome", "message", "resolution", "run_status", "tokens", "cost_usd", "calls",
                                  "wall_s", "agent_s", "test_s")}
        for i, r in done.items()
    }
    for i, r in done.items():  # how each was graded: the official parser/grading or selfcoder's
        instances[i].update(parser=(r.get("grade") or {}).get("parser"), grading=(r.get("grade") or {}).get("grading"),
                            logs=r.get("logs") or {}, environment=(r.get("grade") or {}).get("environment") or "")
    return {
        "total_instances": len(ids),
        "submitted_instances": len(submitted),
        "completed_instances": len(completed),
        "resolved_instances": len(by["resolved"]),
        "unresolved_instances": len(by["unresolved"]),
        "empty_patch_instances": len(by["empty_patch"]),
        "error_instances": len(by["error"]),
        "completed_ids": sorted(completed),
        "incomplete_ids": sorted(i for i in submitted if i not in done),
        "empty_patch_ids": sorted(by["empty_patch"]),
        "submitted_ids": sorted(submitted),
        "resolved_ids": sorted(by["resolved"]),
        "unresolved_ids": sorted(by["unresolved"]),
        "error_ids": sorted(by["error"]),
        "schema_version": SCHEMA_VERSION,
        "model_name_or_path": model,
        "totals": {
            "tokens": sum(r.get("tokens") or 0 for r in done.values()),
            "cost_usd": round(sum(r.get("cost_usd") or 0.0 for r in done.values()), 6),
            "wall_s": round(sum(r.get("wall_s") or 0.0 for r in done.values()), 3),
        },
        "grading": sorted({row["grading"] for row in instances.values() if row.get("grading")}),
        "instances": instances,
        "problems": list(problems),
    }


def write_outputs(out: Path, tasks: list[Task], records: dict[str, dict], *, submitted: list[str],
                  problems: list[str] = (), model: str = "") -> dict:
    """predictions.jsonl and report.json from the records (each written atomically)."""
    order = [t.instance_id for t in tasks if t.instance_id in records]
    write_predictions(Path(out) / "predictions.jsonl", [
        {"instance_id": i, "model_name_or_path": records[i].get("model_name_or_path", model),
         "model_patch": records[i].get("model_patch", "")} for i in order])
    report = build_report(tasks, records, submitted=submitted, problems=problems, model=model)
    atomic_write(Path(out) / "report.json", json.dumps(report, indent=2) + "\n")
    return report


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def summary_table(report: dict):
    """A rich table: one row per instance, then the totals. Ids are never cut (an id is what a
    user copies into `--instances`): that column does not wrap and is as wide as the longest id;
    the note folds instead, and the cost column is left out when no model ran (tokens are in
    report.json)."""
    from rich import box
    from rich.table import Table

    from selfcoder.core.safe_text import markup

    table = Table(title=f"{report['resolved_instances']} of {report['total_instances']} resolved", box=box.SIMPLE_HEAD)
    rows = sorted(report["instances"].items())
    longest = max([len("instance"), *(len(i) for i, _ in rows)])
    table.add_column("instance", no_wrap=True, min_width=longest)
    table.add_column("outcome", no_wrap=True)
    money = bool(report["totals"]["tokens"] or report["totals"]["cost_usd"])
    numbers = ("cost $", "wall s") if money else ("wall s",)
    for column in numbers:
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("note", overflow="fold", ratio=1)
    colours = {"resolved": "green", "unresolved": "yellow", "empty_patch": "dim", "error": "red"}

    def figures(tokens, cost, wall) -> list[str]:  # tokens: in report.json
        shown = [f"{cost or 0:.4f}", f"{wall or 0:.1f}"]
        return shown if money else shown[1:]

    for i, row in rows:
        outcome = row["outcome"]
        table.add_row(markup(i), f"[{colours.get(outcome, 'white')}]{outcome}[/]",
                      *figures(row.get("tokens"), row.get("cost_usd"), row.get("wall_s")),
                      markup(_cut(row.get("message") or "", 300)))
    totals = report["totals"]
    table.add_row("[bold]total[/]", "", *figures(totals["tokens"], totals["cost_usd"], totals["wall_s"]),
                  f"{report['unresolved_instances']} unresolved, {report['empty_patch_instances']} empty, "
                  f"{report['error_instances']} errors")
    return table
