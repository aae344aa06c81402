"""`selfcoder archive`: look at an evolve archive — list, show, diff, best, export, lineage.

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


def _scores(archive) -> dict[str, tuple[float | None, int]]:
    own: dict[str, list[bool]] = {}
    for e in archive.evaluations():
        own.setdefault(e.node, []).append(e.resolved)
    return {n: (sum(r) / len(r) if r else None, len(r)) for n, r in own.items()}


def best_node(archive) -> str | None:
    """The valid node with the highest score; more evaluations break ties (then the older node)."""
    scores = _scores(archive)
    ranked = [(s[0], s[1], -n.seq, n.id) for n in archive.nodes() if n.valid
              for s in [scores.get(n.id, (None, 0))] if s[0] is not None]
    return max(ranked)[3] if ranked else None


@app.command("list")
def list_nodes(archive_dir: Path = ARCHIVE) -> None:
    """Every node: parent, status, score, evaluations."""
    from rich.console import Console
    from rich.table import Table

    from selfcoder.commands.safe_text import text

    archive = _open(archive_dir)
    scores = _scores(archive)
    table = Table("node", "parent", "status", "score", "evals", "origin / reason")
    for n in archive.nodes():
        score, count = scores.get(n.id, (None, 0))
        table.add_row(text(n.id), text(n.parent or "-"), n.status, "-" if score is None else f"{score:.2f}",
                      str(count), text(((n.reason if not n.valid else n.problem) or "")[:80]))
    Console().print(table)


@app.command("show")
def show(node: str = typer.Argument(...), archive_dir: Path = ARCHIVE) -> None:
    """A node's origin (target task, diagnosis, problem statement), status and evaluations."""
    from selfcoder.commands.safe_text import visible

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
    from selfcoder.commands.safe_text import visible

    typer.echo(visible(_open(archive_dir).diff(a, b)))


@app.command("best")
def best(archive_dir: Path = ARCHIVE) -> None:
    """Print the best valid node's id (usable as --agent ARCHIVE/NODE)."""
    from selfcoder.errors import SelfcoderError

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
def lineage(out: Path = typer.Option(..., "--out", help="FILE.svg or FILE.html"), archive_dir: Path = ARCHIVE) -> None:
    """Draw the tree: scores, evaluation counts, invalid nodes, the path to the best node."""
    from selfcoder.evolve.lineage import write_lineage

    archive = _open(archive_dir)
    write_lineage(out, archive.nodes(), archive.evaluations(), best_node(archive))
    typer.echo(f"wrote {out}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="archive")
