"""`selfcoder evolve`: the self-improvement search (selfcoder/evolve/) with live progress.

A new archive stores the run's config and a digest of its task set; `--resume` reads it back
(options given again override the limits: --max-evals, --max-nodes, --max-usd, --workers), refuses
a task set that changed (naming the tasks added, removed or changed), removes what the killed run
left (its sandboxes, their tmpfs, I/O dirs: `selfcoder sandbox gc`'s cleanup of dead owners) and
goes on where the kill stopped; an archive whose creation a kill cut off is finished. `--max-usd`
counts the archive's spend ledger: every model call, the killed work's too.
An archive is data: the task file it names is loaded like any other (its repositories inside its
directory or `--repos-root`, which is never read from the archive; its environments checked and
built as `selfcoder eval` does), so a hostile archive runs nothing on the host."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer



def evolve_command(
    tasks_file: Optional[Path] = typer.Option(None, "--tasks", help="Task set (JSONL) the nodes are evaluated on. Stored in the archive; not needed with --resume."),
    archive_dir: Path = typer.Option(..., "--archive", help="Archive directory (git repository of scaffold versions + archive.db)."),
    policy: Optional[str] = typer.Option(None, "--policy", help="hgm (default) or dgm."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="Expansions/evaluations at once (default 1)."),
    executor: str = typer.Option("local", "--executor", help="local (threads on this machine) or ray (the sandboxed work as tasks on a Ray cluster; pip install 'selfcoder[ray]')."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="With --executor ray: join this cluster (HOST:PORT); default: start a local one."),
    max_evals: Optional[int] = typer.Option(None, "--max-evals", min=1, help="Stop after this many evaluations in the archive."),
    max_nodes: Optional[int] = typer.Option(None, "--max-nodes", min=1, help="Stop making children once the archive holds this many nodes."),
    max_usd: Optional[float] = typer.Option(None, "--max-usd", help="Spend at most this much on models over the whole search (resumed runs included)."),
    model: Optional[str] = typer.Option(None, "--model", help="The agents' model (evaluations, self-modification)."),
    diagnosis_model: Optional[str] = typer.Option(None, "--diagnosis-model", help="The model that diagnoses failures on the host (default: --model)."),
    modify_model: Optional[str] = typer.Option(None, "--modify-model", help="The model the parent agent uses while editing its own code (default: --model)."),
    modify_time_limit: Optional[float] = typer.Option(None, "--modify-time-limit", min=1, help="Seconds for the parent's run on its own code (default: the agent's time limit, as an evaluation). Stored in the archive."),
    diagnosis_view: Optional[str] = typer.Option(None, "--diagnosis-view", help="What the diagnosis model is shown: full (default: the task, the grading, the steps, the patch, the agent's files, and the host's finding about the run) or focused (the host's finding and the one agent file it points to, nothing of the task: for a small model, which otherwise writes a fix for the task). Fixed when the archive is made."),
    scope: Optional[str] = typer.Option(None, "--scope", help="Which files a child may change, as the seed's surface.toml declares them: config, prompts, policies (default: settings, prompts and policy files, the edits a small model can make) or all (the loop too, for a strong model). Fixed when the archive is made."),
    small: Optional[int] = typer.Option(None, "--small", min=0, help="dgm staged evaluation: the first N tasks are the first stage (0: all)."),
    admission_tests: Optional[str] = typer.Option(None, "--admission-tests", help="Command a child's own tests run with (in a sandbox, in the child's directory)."),
    seed: Optional[str] = typer.Option(None, "--seed", help="Scaffold of the root node: 'seed' (default) or a directory."),
    sandbox: Optional[str] = typer.Option(None, "--sandbox", help="Sandbox backend: local (bubblewrap) or docker."),
    resume: bool = typer.Option(False, "--resume", help="Go on with an existing archive."),
    repos_root: Optional[Path] = typer.Option(None, "--repos-root", help="A directory the task set's repo_path entries may also lie in (default: only the task file's own directory). Not stored in the archive: give it again with --resume."),
) -> None:
    """Evolve the agent: pick a parent, let it rewrite its own code, admit and evaluate the child.
    Exit 0 when a limit was reached, 130 on Ctrl-C (everything finished is kept: rerun with --resume)."""
    from rich.console import Console

    from selfcoder.commands.config import settings_with_options
    from selfcoder.commands.executor_options import check_executor_options, start_executor
    from selfcoder.evolve.search import Search
    from selfcoder.evolve.start import open_search
    from selfcoder.llm.budget import Budget
    from selfcoder.core.safe_text import markup

    check_executor_options(executor, ray_address)  # before the archive is touched
    console = Console(stderr=True)
    start = open_search(archive_dir, resume=resume, tasks_file=tasks_file, scope=scope, seed=seed,
                        max_usd=max_usd, repos_root=repos_root,
                        options={"policy": policy, "small": small, "admission_tests": admission_tests,
                                 "workers": workers, "max_evals": max_evals, "max_nodes": max_nodes,
                                 "modify_time_limit_s": modify_time_limit, "diagnosis_view": diagnosis_view},
                        models={"model": model, "diagnosis": diagnosis_model, "modify": modify_model})
    archive, config, models, task_set = start.archive, start.config, start.models, start.task_set
    for problem in task_set.problems:
        console.print(f"[yellow]skipped: {markup(problem)}[/]")

    def settings_with(name: str | None):
        return settings_with_options(model=name, sandbox=sandbox).settings

    settings = settings_with(models.get("model"))
    budget = None
    if start.max_usd is not None:  # the search's runs are not counted ahead: only the dollars the archive has left
        budget = Budget.for_runs(settings.budget, None, start.max_usd, spent_usd=archive.db.spend()["cost_usd"])
    if resume:  # what the killed run left (sandboxes, their tmpfs, I/O dirs): as `selfcoder sandbox gc`
        _collect_leftovers(console, settings)
    pool = None
    try:
        if executor == "ray":
            pool = start_executor(executor, config.workers, ray_address, console)
        search = Search(archive, task_set.tasks, settings, config,
                        modify_settings=settings_with(models.get("modify") or models.get("model")),
                        diagnosis_settings=settings_with(models.get("diagnosis") or models.get("model")),
                        budget=budget, executor=pool, on_progress=lambda p: _show(console, p))
        search.run()
    except KeyboardInterrupt:
        console.print(f"[yellow]interrupted: finished nodes and evaluations are kept in {markup(archive.root)}; "
                      "add --resume to go on[/]")
        raise typer.Exit(130)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        archive.close()
    p = search.progress
    if search.stop_reason:
        console.print(f"[yellow]stopped: {markup(search.stop_reason)}[/]")
    lost = f" (${p.lost_usd:.4f} of it on work a kill or a stop cut off)" if p.lost_usd else ""
    console.print(f"done: {p.nodes} nodes ({p.invalid} invalid or failed), {p.evaluations} evaluations, "
                  f"best {markup(p.best) or '-'} ({_score(p.best_score)}), ${p.cost_usd:.4f}{lost}")


def _collect_leftovers(console, settings) -> None:
    from selfcoder.core.errors import SandboxError
    from selfcoder.sandbox.gc import gc

    try:
        report = gc(docker=settings.sandbox.backend == "docker")
    except (SandboxError, OSError) as e:
        console.print(f"[yellow]could not remove what killed runs left: {e}; try `selfcoder sandbox gc`[/]")
        return
    if not report.empty:
        console.print(f"removed what killed runs left: {len(report.directories)} directories, "
                      f"{len(report.processes)} processes, {len(report.containers)} containers")


def _score(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def _show(console, p) -> None:
    from selfcoder.core.safe_text import markup

    console.print(f"[dim]nodes {p.nodes} ({p.invalid} invalid) · evaluations {p.evaluations} · best "
                  f"{markup(p.best) or '-'} {_score(p.best_score)} · ${p.cost_usd:.4f} · running {p.running}[/]"
                  + (f"  {markup(p.last)}" if p.last else ""))


def register(app: typer.Typer) -> None:
    app.command("evolve")(evolve_command)
