"""`selfcoder archive`: look at an evolve archive — list, show, diff, best, export, lineage — and
compare a node with another (or the seed) on held-out tasks.

Reading commands do not take the archive's lock, so they work while `selfcoder evolve` runs."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="Inspect an evolve archive (nodes, scores, diffs, lineage).", no_args_is_help=True)
ARCHIVE = typer.Option(..., "--archive", "-a", help="The archive directory.", envvar="SELFCODER_ARCHIVE")


def _open(path: Path):
    from selfcoder.evolve.archive import Archive

    return Archive(path, lock=False)


def best_node(archive) -> str | None:
    """The best valid node: the highest 95 % Wilson lower bound of its solve rate on the search's
    task set, ties to the older node (selfcoder.evolve.stats.best_node: the search's notion too)."""
    return archive.best()[0]


@app.command("list")
def list_nodes(archive_dir: Path = ARCHIVE) -> None:
    """Every node: parent, status, what it solved of its evaluations, the score nodes are ranked by
    (the 95 % Wilson lower bound; * marks the best), and what the search spent."""
    from rich.console import Console
    from rich.table import Table

    from selfcoder.evolve.stats import node_scores
    from selfcoder.core.safe_text import text

    archive = _open(archive_dir)
    scores = node_scores(archive.nodes(), archive.evaluations(), archive.task_ids)
    best = archive.best()[0]
    table = Table("node", "parent", "status", "solved", "score", "origin / reason")
    for n in archive.nodes():
        solved, count, lower = scores.get(n.id, (0, 0, None))
        table.add_row(text(n.id) + (" *" if n.id == best else ""), text(n.parent or "-"), n.status,
                      f"{solved}/{count}" if count else "-", "-" if lower is None else f"{lower:.2f}",
                      text(((n.reason if not n.valid else n.problem) or "")[:80]))
    Console().print(table)
    spend = archive.db.spend()
    typer.echo(f"best: {best or '-'} (*; score: the 95 % Wilson lower bound of its solve rate); spent "
               f"${spend['cost_usd']:.4f}, of which ${spend['lost_cost_usd']:.4f} on work a kill or a stop cut off")


@app.command("show")
def show(node: str = typer.Argument(...), archive_dir: Path = ARCHIVE) -> None:
    """A node's origin (target task, diagnosis, problem statement), status and evaluations."""
    from selfcoder.core.safe_text import visible

    archive = _open(archive_dir)
    n = archive.node(node)
    typer.echo(f"node {visible(n.id)}  parent {visible(n.parent or '-')}  status {n.status}"
               + (f" ({visible(n.reason)})" if n.reason else ""))
    typer.echo(f"commit {n.commit_sha}  cost ${n.cost_usd:.4f}  tokens {n.tokens}  files {archive.root / 'nodes' / n.id}")
    if n.target_task:
        typer.echo(f"improving on: {visible(n.target_task)}")
    if n.problem:
        typer.echo(f"problem statement:\n{visible(n.problem)}")
    for e in archive.evaluations(node):
        typer.echo(f"  {'resolved  ' if e.resolved else 'unresolved'} {visible(e.task)}  {e.outcome}  "
                   f"{e.tokens} tokens  ${e.cost_usd:.4f}  {e.time_s:.1f}s  {visible(e.log_path)}")


@app.command("diff")
def diff(a: str = typer.Argument(...), b: Optional[str] = typer.Argument(None), archive_dir: Path = ARCHIVE) -> None:
    """The change from A's parent to A, or from A to B."""
    from selfcoder.core.safe_text import visible

    typer.echo(visible(_open(archive_dir).diff(a, b)))


@app.command("best")
def best(archive_dir: Path = ARCHIVE) -> None:
    """Print the best valid node's id (usable as --agent ARCHIVE/NODE)."""
    from selfcoder.core.errors import SelfcoderError

    node = best_node(_open(archive_dir))
    if node is None:
        raise SelfcoderError("no node has been evaluated yet")
    typer.echo(node)


@app.command("export")
def export(node: str = typer.Argument(...), dest: Path = typer.Argument(...), archive_dir: Path = ARCHIVE) -> None:
    """Write NODE's scaffold files to the new directory DEST."""
    _open(archive_dir).export(node, dest)
    typer.echo(f"exported {node} to {dest}")


@app.command("lineage")
def lineage(out: Path = typer.Option(..., "--out", help="FILE.svg, FILE.html or FILE.png"), archive_dir: Path = ARCHIVE) -> None:
    """Draw the tree: scores, evaluation counts, invalid nodes, the path to the best node."""
    from selfcoder.evolve.lineage import write_lineage

    archive = _open(archive_dir)
    write_lineage(out, archive.nodes(), archive.evaluations(), best_node(archive), archive.task_ids)
    typer.echo(f"wrote {out}")


@app.command("compare")
def compare(
    a: str = typer.Argument(..., metavar="NODE", help="An archive node id, 'best' (as `archive best`), or 'seed' (the archive's root)."),
    b: str = typer.Argument(..., metavar="OTHER", help="The node to compare with (usually 'seed': the archive's root)."),
    tasks_file: Path = typer.Option(..., "--tasks", help="Held-out task set (JSONL): tasks the search never saw."),
    workers: int = typer.Option(1, "--workers", min=1, help="Instances at once, each in its own sandboxes."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output directory (one evaluation per node); reused to "
                                       "resume. Default: ARCHIVE/compare/<tasks>-<digest>."),
    model: Optional[str] = typer.Option(None, "--model", help="litellm model name, 'local', or scripted/<file>."),
    sandbox: Optional[str] = typer.Option(None, "--sandbox", help="Sandbox backend: local (bubblewrap) or docker."),
    max_usd: Optional[float] = typer.Option(None, "--max-usd", help="Spend at most this much on both evaluations."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as one JSON object (progress stays on stderr)."),
    repos_root: Optional[Path] = typer.Option(None, "--repos-root", help="A directory the task set's repo_path entries may also lie in (default: only the task file's own directory)."),
    archive_dir: Path = ARCHIVE,
) -> None:
    """Evaluate NODE and OTHER on held-out tasks: solve rates with 95 % Wilson intervals, the paired
    difference with an exact McNemar p-value. Rerunning the same command resumes."""
    import json

    from rich.console import Console
    from rich.table import Table

    from selfcoder.commands.config import settings_with_options
    from selfcoder.core.safe_text import markup, text
    from selfcoder.core.errors import SelfcoderError
    from selfcoder.eval.tasks import load_task_set
    from selfcoder.evolve import compare as C
    from selfcoder.llm.budget import Budget, check_max_usd

    if a == b:
        raise SelfcoderError(f"compare {a} with another node (both sides are {a})")
    check_max_usd(max_usd)
    archive = _open(archive_dir)
    sides = [C.resolve_side(archive, a), C.resolve_side(archive, b)]
    if sides[0].scaffold == sides[1].scaffold:
        raise SelfcoderError(f"compare {a} with another node ({a} and {b} are the same node)")
    console = Console(stderr=True)
    task_set = load_task_set(tasks_file, repos_root)
    for problem in task_set.problems:
        console.print(f"[yellow]skipped: {markup(problem)}[/]")
    tasks = task_set.tasks
    seen = C.seen_by_search(archive, tasks)
    loaded = settings_with_options(model=model, sandbox=sandbox)
    settings = loaded.settings
    budget = Budget.for_runs(settings.budget, 2 * len(tasks), max_usd) if max_usd is not None else None
    out = out or C.default_out(archive.root, tasks_file)
    stopped = ""
    for side in sides:
        console.print(f"evaluating {markup(side.name)} on {len(tasks)} held-out tasks in {markup(out / side.name)}")
        try:
            evaluation = C.evaluate_side(side, tasks, out / side.name, settings=settings, workers=workers,
                                         budget=budget, log=lambda line: console.print(markup(line)),
                                         on_progress=lambda p: p.last and console.print(f"  {markup(p.last)}"))
        except KeyboardInterrupt:
            console.print(f"[yellow]interrupted: finished instances are kept in {markup(out)}; "
                          "run the same command again to resume[/]")
            raise typer.Exit(130)
        stopped = stopped or evaluation.stop_reason
    if as_json:
        typer.echo(json.dumps(C.report(sides, seen, stopped, tasks=len(tasks)), indent=2))
    else:
        table = Table("node", "solved", "rate", "95% CI (Wilson)", "errors", title=f"held-out: {len(tasks)} tasks")
        for side in sides:
            table.add_row(text(side.name), *C.rate_line(side))
        Console().print(table)
        typer.echo(C.paired_summary(*sides))
        if C.too_small(len(tasks)):
            typer.echo(C.too_small(len(tasks)))
    if stopped:
        console.print(f"[yellow]stopped early: {markup(stopped)}; rerun with more budget to finish[/]")
    if seen:
        shown = ", ".join(seen[:5]) + (", ..." if len(seen) > 5 else "")
        console.print(f"[yellow]warning: {len(seen)} of {len(tasks)} held-out tasks were used during the search "
                      f"({markup(shown)}): their results are not held out[/]")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="archive")
