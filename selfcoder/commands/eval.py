"""`selfcoder eval`: run an agent on a SWE-bench–style task set (or grade given predictions) and
write official predictions, report.json and a summary table. Rerunning resumes."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from selfcoder.core.errors import SelfcoderError


def eval_command(
    tasks_file: Path = typer.Argument(..., metavar="TASKS", help="Task set: SWE-bench instances as JSONL (plus repo_path, test_cmd, environment)."),
    out: Path = typer.Option(..., "--out", help="Output directory: predictions.jsonl, report.json, instances/, runs/. Reused to resume."),
    agent: Optional[str] = typer.Option(None, "--agent", help="Scaffold: an archive node id ('seed') or a scaffold directory."),
    predictions: Optional[str] = typer.Option(None, "--predictions", help="Grade these instead of running an agent: a predictions JSONL file, 'gold' or 'empty'."),
    workers: int = typer.Option(1, "--workers", min=1, help="Instances at once, each in its own sandboxes."),
    executor: str = typer.Option("local", "--executor", help="local (threads on this machine) or ray (tasks on a Ray cluster; pip install 'selfcoder[ray]')."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="With --executor ray: join this cluster (HOST:PORT); default: start a local one."),
    instances: Optional[List[str]] = typer.Option(None, "--instances", help="Only these instance ids: repeat the option, separate them by commas, or @FILE (one id per line, # comments)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Only the first N instances."),
    max_usd: Optional[float] = typer.Option(None, "--max-usd", help="Spend at most this much on the model over the whole evaluation."),
    model: Optional[str] = typer.Option(None, "--model", help="litellm model name, 'local', or scripted/<file>."),
    sandbox: Optional[str] = typer.Option(None, "--sandbox", help="Sandbox backend: local (bubblewrap) or docker."),
    test_timeout: float = typer.Option(1800, "--test-timeout", min=1, help="Seconds one instance's test run may take (the official harness's default: 1800); past it the instance is an error."),
    repos_root: Optional[Path] = typer.Option(None, "--repos-root", help="A directory the task set's repo_path entries may also lie in (default: only the task file's own directory)."),
) -> None:
    """Evaluate an agent on TASKS with SWE-bench's rules. Exit code 0 when every instance was
    evaluated (resolved or not), 1 when some are errors, 130 on Ctrl-C (finished ones are kept)."""
    from rich.console import Console

    from selfcoder.commands.config import settings_with_options
    from selfcoder.commands.executor_options import check_executor_options, start_executor
    from selfcoder.core.safe_text import markup
    from selfcoder.eval.evaluate import Evaluation
    from selfcoder.eval.predictions import builtin_predictions, read_predictions
    from selfcoder.eval.report import summary_table
    from selfcoder.eval.tasks import instance_ids, load_task_set, select
    from selfcoder.llm.budget import Budget, check_max_usd

    check_executor_options(executor, ray_address)
    check_max_usd(max_usd)
    if predictions is not None and agent is not None:
        raise SelfcoderError("give either --agent (run an agent) or --predictions (grade), not both")
    console = Console(stderr=True)
    if not console.is_terminal:  # a log file: one line per message, never folded at 80 columns
        console = Console(stderr=True, soft_wrap=True)
    task_set = load_task_set(tasks_file, repos_root)
    for problem in task_set.problems:
        console.print(f"[yellow]skipped: {markup(problem)}[/]")
    tasks = select(task_set.tasks, instance_ids(instances), limit)
    problems = list(task_set.problems)
    loaded = settings_with_options(model=model, sandbox=sandbox, agent=agent)
    settings = loaded.settings
    preds = None
    if predictions is not None:
        if predictions in ("gold", "empty"):
            preds = builtin_predictions(predictions, tasks)
        else:
            preds, bad = read_predictions(Path(predictions), known={t.instance_id for t in task_set.tasks})
            problems += bad
        for problem in problems[len(task_set.problems):]:
            console.print(f"[yellow]skipped: {markup(problem)}[/]")
    budget = Budget.for_runs(settings.budget, len(tasks), max_usd) if max_usd is not None else None
    scaffold = None
    if preds is None:
        from selfcoder.core.scaffold import resolve_scaffold

        scaffold = resolve_scaffold(settings.agent.node)
    display = RichProgress(console) if console.is_terminal else PlainProgress(console)
    with display:
        pool = start_executor(executor, workers, ray_address, display.console)
        try:
            evaluation = Evaluation(tasks, out, settings=settings, predictions=preds, workers=workers,
                                    scaffold=scaffold, budget=budget, problems=problems, on_progress=display.update,
                                    test_timeout_s=test_timeout,
                                    executor=pool, log=lambda line: display.console.print(markup(line)))
            report = evaluation.run()
        except KeyboardInterrupt:
            console.print(f"[yellow]interrupted: finished instances are kept in {markup(out)}; "
                          "run the same command again to resume[/]")
            raise typer.Exit(130)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    Console().print(summary_table(report))
    if evaluation.stop_reason:
        console.print(f"[yellow]stopped early: {markup(evaluation.stop_reason)}; rerun with more budget to go on[/]")
    console.print(f"predictions: {markup(out / 'predictions.jsonl')}  report: {markup(out / 'report.json')}")
    raise typer.Exit(1 if report["error_instances"] else 0)


class RichProgress:
    """A progress bar, for a terminal."""

    def __init__(self, console):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("[bold]eval[/]"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[info]}"), TimeElapsedColumn(), console=console, transient=False)
        self.console = self.bar.console
        self.bar_id = self.bar.add_task("eval", total=None, info="")

    def __enter__(self):
        self.bar.__enter__()
        return self

    def __exit__(self, *exc):
        return self.bar.__exit__(*exc)

    def update(self, p) -> None:
        from selfcoder.core.safe_text import markup

        info = f"resolved {p.resolved} · ${p.cost_usd:.4f}" + (f" · {markup(p.last)}" if p.last else "")
        if p.skipped:
            info += f" · {p.skipped} done before"
        self.bar.update(self.bar_id, total=p.total, completed=p.done + p.skipped, info=info)


class PlainProgress:
    """Plain lines, for a log file or a pipe (a bar there is noise): one line per finished
    instance, `[n/total] id outcome seconds`, and a summary line every SUMMARY_EVERY_S seconds
    and at the end."""

    SUMMARY_EVERY_S = 60.0

    def __init__(self, console):
        import threading
        import time

        self.console, self.started = console, time.monotonic()
        self.latest = None
        self.lock, self.stopped = threading.Lock(), threading.Event()
        self.timer = threading.Thread(target=self._every, daemon=True, name="eval-summary")

    def __enter__(self):
        self.timer.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.timer.join()
        self.summary()

    def _every(self) -> None:
        while not self.stopped.wait(self.SUMMARY_EVERY_S):
            self.summary()

    def _print(self, line: str) -> None:
        from selfcoder.core.safe_text import markup

        with self.lock:
            self.console.print(markup(line), highlight=False, soft_wrap=True)

    def update(self, p) -> None:
        self.latest = p
        if p.last_id:
            self._print(f"[{p.done + p.skipped}/{p.total}] {p.last_id} {p.last_outcome} {p.last_s:.1f} s")

    def summary(self) -> None:
        import time

        p = self.latest
        if p is None:
            return
        minutes, seconds = divmod(int(time.monotonic() - self.started), 60)
        before = f" ({p.skipped} before)" if p.skipped else ""
        self._print(f"eval: {p.done + p.skipped}/{p.total} finished{before}, {p.resolved} resolved, "
                    f"{p.errors} errors, ${p.cost_usd:.4f}, {minutes}m{seconds:02d}s")


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
