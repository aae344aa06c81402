"""`selfcoder demo`: the README's main job — solve a bundled small repository with a failing
test, using the default model (the local one when no API key is set) in the default sandbox,
and print the validated diff."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Optional

import typer

DEMO_REPO = Path(__file__).resolve().parent.parent / "demo_repo"


def demo_command(
    model: Optional[str] = typer.Option(None, "--model", help="Model to use (default: settings' model.name; 'auto' picks the local model when no API key is set)."),
    sandbox: Optional[str] = typer.Option(None, "--sandbox", help="Sandbox backend: local or docker."),
    keep: Optional[Path] = typer.Option(None, "--dir", help="Copy the demo repository here (default: a temporary directory)."),
) -> None:
    """Solve the bundled demo repository (stats.py has a bug; test_stats.py shows it) and print the validated diff."""
    from rich.console import Console

    from selfcoder.commands.config import settings_with_options
    from selfcoder.commands.progress import ProgressPrinter, print_summary
    from selfcoder.core.safe_text import markup
    from selfcoder.solve.attempts import make_task, solve

    console = Console()
    target = keep or Path(tempfile.mkdtemp(prefix="selfcoder-demo-")) / "demo"
    shutil.copytree(DEMO_REPO, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", ".selfcoder"))
    problem = (target / "PROBLEM.md").read_text()
    settings = settings_with_options(model=model, sandbox=sandbox).settings
    console.print(f"[bold]selfcoder demo[/]: {markup(problem.strip())}\n[dim]repository copy: {markup(target)}[/]")
    result = solve(make_task(target, problem, "python3 -m pytest -q", instance_id="demo"), settings,
                   on_event=ProgressPrinter(console)).best
    print_summary(console, result)
    raise typer.Exit(0 if result.validated else 1)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
