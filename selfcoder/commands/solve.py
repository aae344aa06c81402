"""`selfcoder solve`: an agent edits a sandboxed copy of the repository; the patch is
validated against the tests in a fresh sandbox; `--apply` writes only a validated patch."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from selfcoder.core.errors import SelfcoderError


def solve_command(
    repo: Path = typer.Argument(Path("."), help="Repository: a directory, git repository (HEAD + uncommitted changes) or tarball."),
    problem: Optional[str] = typer.Option(None, "-p", "--problem", help="What to change, in words."),
    problem_file: Optional[Path] = typer.Option(None, "-f", "--problem-file", help="Read the problem from a file."),
    test_cmd: Optional[str] = typer.Option(None, "--test-cmd", help="Command that runs the tests (default: pytest when the repo looks like a pytest project)."),
    agent: Optional[str] = typer.Option(None, "--agent", help="Scaffold: an archive node id ('seed') or a scaffold directory."),
    model: Optional[str] = typer.Option(None, "--model", help="litellm model name, 'local', or scripted/<file> (default: settings' model.name)."),
    sandbox: Optional[str] = typer.Option(None, "--sandbox", help="Sandbox backend: local (bubblewrap) or docker."),
    attempts: Optional[int] = typer.Option(None, "--attempts", min=1, help="Run up to N attempts (default: agent.attempts, 1), each at its own temperature and seed (agent.attempt_temperatures); keep the first validated one."),
    all_attempts: bool = typer.Option(False, "--all-attempts", help="Run all N attempts even after one is validated; keep the validated patch most attempts agree on, then the smallest."),
    apply: bool = typer.Option(False, "--apply", help="Apply the patch to your working tree, only if validated and only if the tree did not change meanwhile."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout (progress goes to stderr)."),
) -> None:
    """Solve a problem in REPO and show the validated diff. Your files are never written without --apply.

    Every run is recorded in REPO/.selfcoder/runs/<run_id>/ (task, trajectory, patch, verdict, result).
    Exit code: 0 when a validated patch was produced, 1 when not, 2+ for errors.
    """
    from rich.console import Console

    from selfcoder.core.worktree_apply import apply_run
    from selfcoder.commands.config import settings_with_options
    from selfcoder.commands.progress import ProgressPrinter, print_summary
    from selfcoder.core.safe_text import markup
    from selfcoder.solve.attempts import make_task, solve

    if (problem is None) == (problem_file is None):
        raise SelfcoderError("give the problem with exactly one of -p TEXT or -f FILE")
    if problem_file is not None:
        try:
            problem = problem_file.read_text()
        except OSError as e:
            raise SelfcoderError(f"{problem_file}: cannot read: {e.strerror}") from None
    repo = repo.expanduser().resolve()
    settings = settings_with_options(repo if repo.is_dir() else None, model=model, sandbox=sandbox, agent=agent,
                                     attempts=attempts).settings
    task = make_task(repo, problem, test_cmd)
    console = Console(stderr=as_json)
    outcome = solve(task, settings, all_attempts=all_attempts, on_event=ProgressPrinter(console))
    result = outcome.best
    applied: list[str] = []
    if apply:
        if result.validated:
            applied = apply_run(result.run_dir, repo)
        else:
            console.print("[yellow]not applying: no validated patch[/]")
    if as_json:
        data = result.to_json()
        data["applied_files"] = applied
        data["attempts"] = [r.run_id for r in outcome.attempts]
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        print_summary(console, result)
        if applied:
            console.print(f"[green]applied to {markup(repo)}: {markup(', '.join(applied))}[/]")
    raise typer.Exit(0 if result.validated else 1)


def register(app: typer.Typer) -> None:
    app.command("solve")(solve_command)
