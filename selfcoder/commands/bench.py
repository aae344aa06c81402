"""`selfcoder bench gen`: build SWE-bench–style tasks from real projects' sdists (selfcoder/taskgen/).

    selfcoder bench gen --sdist toolz==1.0.0 --count 5 --seed 1 --out tasks/
    selfcoder bench gen --sdist ./mylib-1.0.tar.gz --out tasks/           # offline
    selfcoder bench gen --recipe bench/recipes/default.toml --out tasks/

Progress (candidates tried and kept) goes to stderr; the task set is `OUT/tasks.jsonl` with one
git repository per task under `OUT/repos/`. Grade it with `selfcoder eval OUT/tasks.jsonl ...`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import List, Optional

import typer

from selfcoder.core.errors import SelfcoderError

app = typer.Typer(help="Build benchmark task sets from real projects.", no_args_is_help=True)


def gen_command(
    out: Path = typer.Option(..., "--out", help="Output directory: tasks.jsonl and repos/<instance_id>/."),
    sdist: Optional[str] = typer.Option(None, "--sdist", help="NAME==VERSION from the package index, or a local sdist (.tar.gz/.zip)."),
    recipe: Optional[Path] = typer.Option(None, "--recipe", help="A TOML recipe of libraries, versions, seeds and counts (instead of --sdist)."),
    count: int = typer.Option(5, "--count", min=1, help="Tasks to build from the sdist."),
    seed: int = typer.Option(0, "--seed", help="Seed of the mutation order: the same seed gives the same tasks."),
    model: Optional[str] = typer.Option(None, "--model", help="Write each statement as a bug report with this model (default: from the test output, no model)."),
    workers: int = typer.Option(2, "--workers", min=1, help="Candidate test runs at once, each in its own sandbox."),
    python: Optional[str] = typer.Option(None, "--python", help="Python version of the test environment (default: the sandbox's python3)."),
    requirement: Optional[List[str]] = typer.Option(None, "--requirement", "-r", help="A requirement of the test environment, as a plain specifier such as pytest==8.3.3 (repeat); fetched as a wheel, installed in a sandbox."),
    install: Optional[str] = typer.Option(None, "--install", help="Command run in the sandbox before the tests (default: src/ on PYTHONPATH for a src layout)."),
    test_cmd: Optional[str] = typer.Option(None, "--test-cmd", help="Test command (default: python3 -m pytest on the sdist's test paths)."),
    tests: Optional[List[str]] = typer.Option(None, "--tests", help="Test path in the sdist (repeat; default: found)."),
    max_tries: Optional[int] = typer.Option(None, "--max-tries", min=1, help="Candidates to try at most (default: 20 per task)."),
    allow_clean_failures: bool = typer.Option(False, "--allow-clean-failures", help="Leave out tests that fail before any change instead of stopping."),
    sandbox: Optional[str] = typer.Option(None, "--sandbox", help="Sandbox backend: local (bubblewrap) or docker."),
) -> None:
    """Build tasks: run the project's tests clean, mutate its code (AST), keep mutants that make
    ≥ 1 test fail while ≥ 1 still passes, write SWE-bench instances with the fix as `patch`."""
    from rich.console import Console

    from selfcoder.commands.config import settings_with_options
    from selfcoder.core.safe_text import markup
    from selfcoder.sandbox.base import Limits
    from selfcoder.taskgen.build import GenConfig, generate, write_task_set
    from selfcoder.taskgen.recipe import load_recipe

    if (sdist is None) == (recipe is None):
        raise SelfcoderError("give either --sdist NAME==VERSION|FILE or --recipe FILE")
    console = Console(stderr=True)
    loaded = settings_with_options(model=model, sandbox=sandbox)
    settings = loaded.settings
    if recipe is not None:
        configs = load_recipe(recipe)
    else:
        configs = [GenConfig(sdist=sdist, count=count, seed=seed, python=python, requirements=list(requirement or []),
                             install=install, test_cmd=test_cmd, tests=list(tests) if tests else None,
                             max_tries=max_tries, allow_clean_failures=allow_clean_failures)]
    gateway = None
    if model is not None:
        from selfcoder.llm import Budget, Gateway, TrajectoryLog

        n = sum(cfg.count for cfg in configs)  # one statement per task: the per-run budget times the tasks
        gateway = Gateway(settings, run_id="bench-gen", trajectory=TrajectoryLog(out / "statements.jsonl"),
                          budget=Budget.for_runs(settings.budget, n, None))
    started = time.monotonic()
    instances, lines = [], []
    try:
        for cfg in configs:
            result = generate(cfg, out, backend=settings.sandbox.backend, limits=Limits.from_settings(settings.sandbox),
                              workers=workers, gateway=gateway, log=lambda line: console.print(markup(line)))
            known = {i["instance_id"] for i in instances}  # the same library twice may find the same bug
            instances += [i for i in result.instances if i["instance_id"] not in known]
            lines.append(f"{result.project}: {len(result.instances)} task(s) from {result.tried} candidates "
                         f"in {result.seconds:.0f} s")
            write_task_set(out, instances)  # after each library: an interrupted recipe keeps what is done
    except KeyboardInterrupt:
        console.print(f"[yellow]interrupted: {len(instances)} task(s) written to {markup(out / 'tasks.jsonl')}[/]")
        raise typer.Exit(130)
    finally:
        if gateway is not None:
            gateway.close()
    path = write_task_set(out, instances)
    for line in lines:
        console.print(markup(line))
    libraries = sum(1 for cfg_line in lines if not cfg_line.split(": ", 1)[1].startswith("0 task"))
    console.print(f"{len(instances)} task(s) from {libraries} librar{'y' if libraries == 1 else 'ies'} in "
                  f"{time.monotonic() - started:.0f} s: {markup(path)}")
    if not instances:
        raise SelfcoderError("no task was kept: no mutant made a test fail while another still passed")


app.command("gen")(gen_command)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="bench")
