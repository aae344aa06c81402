"""`selfcoder sandbox run|check|gc`: try a command the way an agent would, see which backends
work on this machine, and clean up after killed runs."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import List, Optional

import typer

sandbox_app = typer.Typer(
    help="Run commands in a sandbox, check which sandbox backends work, remove leftovers of killed runs.",
    no_args_is_help=True,
)


@sandbox_app.command(
    "run",
    context_settings={"allow_interspersed_args": False},
)
def run(
    cmd: List[str] = typer.Argument(..., metavar="-- CMD...", help="The command. One argument is run as a shell "
                                    "string (pipes work); several are quoted and joined."),
    backend: Optional[str] = typer.Option(None, "--backend", "-b", help="local (bubblewrap) or docker; default: "
                                          "sandbox.backend from the settings."),
    repo: Path = typer.Option(Path("."), "--repo", "-r", help="Snapshot source: a directory, a git repository (HEAD "
                              "plus uncommitted and untracked changes) or a tarball."),
    commit: Optional[str] = typer.Option(None, "--commit", help="For a git repository: snapshot this commit instead."),
    timeout: Optional[float] = typer.Option(None, "--timeout", "-t", help="Seconds before the command is killed; "
                                            "default: sandbox.timeout_s."),
    show_diff: bool = typer.Option(False, "--diff", help="Afterwards, print the workspace diff (what a patch would "
                                   "hold) to stderr."),
) -> None:
    """Run CMD in a fresh sandbox holding a snapshot of --repo and print exactly what an agent would see.

    The output is stdout and stderr interleaved and capped (head and tail kept); the exit code is the command's. Notes about timeouts and cut output go to stderr. The repository itself is never written.

    Example: selfcoder sandbox run --repo . -- 'python3 -m pytest -q | tail -3'
    """
    from selfcoder.commands.config import settings_with_options
    from selfcoder.core.safe_text import visible
    from selfcoder.sandbox import Limits, SandboxSpec, open_sandbox

    settings = settings_with_options(repo if repo.is_dir() else None).settings
    command = cmd[0] if len(cmd) == 1 else shlex.join(cmd)
    spec = SandboxSpec(source=repo, commit=commit, limits=Limits.from_settings(settings.sandbox),
                       image=settings.sandbox.image)
    with open_sandbox(spec, backend or settings.sandbox.backend) as sb:
        res = sb.run(command, timeout=timeout)
        patch = sb.diff() if show_diff else ""
    typer.echo(visible(res.output), nl=False)  # the repository's output: escapes shown, not obeyed
    if res.timed_out:
        typer.secho(f"[timed out after {timeout or settings.sandbox.timeout_s:g} s; the command's processes "
                    "were killed]", err=True, fg="yellow")
    if res.truncated_bytes:
        typer.secho(f"[output capped: {res.truncated_bytes} bytes cut from the middle]", err=True, fg="yellow")
    if show_diff:
        typer.echo(visible(patch) or "[no changes]", err=True, nl=not patch)
    raise typer.Exit(res.exit_code)


@sandbox_app.command("check")
def check() -> None:
    """Show which sandbox backends work on this machine, and how to fix those that do not.

    Also says how the local sandbox's limits hold here: a cgroup for the whole sandbox, or per-process rlimits only (and why), and whether the workspace's disk use is bounded. Exits 1 when no backend works."""
    from rich.console import Console
    from rich.table import Table

    from selfcoder.sandbox import check_backends

    results = check_backends()
    table = Table("backend", "works", "why not / how to fix")
    for name, problem in results.items():
        table.add_row(name, "[green]yes[/]" if problem is None else "[red]no[/]", problem or "")
    console = Console()
    console.print(table)
    if results.get("local") is None:
        from selfcoder.sandbox.local import limits_report

        for what, how in limits_report().items():
            console.print(f"local sandbox {what}: {how}", highlight=False, markup=False, soft_wrap=True)
    if all(problem is not None for problem in results.values()):
        raise typer.Exit(1)


@sandbox_app.command("gc")
def gc(
    dry_run: bool = typer.Option(False, "--dry-run", "-n", help="Only list what would be removed."),
) -> None:
    """Remove what killed runs left behind: sandbox directories, processes, cgroups, containers and run I/O directories (/tmp/selfcoder-io-*) whose owning selfcoder process is dead.

    Sandboxes of running selfcoder processes are left alone."""
    from selfcoder.sandbox.gc import gc as collect

    report = collect(dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    for path in report.directories:
        typer.echo(f"{verb} directory {path}")
    for pid in report.processes:
        typer.echo(f"{'would kill' if dry_run else 'killed'} process {pid}")
    for name in report.containers:
        typer.echo(f"{verb} container {name}")
    for path in report.cgroups:
        typer.echo(f"{verb} cgroup {path}")
    for note in report.notes:
        typer.secho(note, err=True, fg="yellow")
    if report.empty:
        typer.echo("nothing to clean up")


@sandbox_app.command("build-image")
def build_image(
    name: Optional[str] = typer.Option(None, "--name", help="Image name; default: sandbox.image from the settings."),
    force: bool = typer.Option(False, "--force", help="Rebuild even if the image exists."),
    mirror: Optional[str] = typer.Option(None, "--mirror", help="Debian mirror; default: the one apt uses here."),
) -> None:
    """Build the docker backend's base image offline: debootstrap from the apt mirror, then docker import.

    Needs root and a running engine (scripts/ensure-docker.sh does both); about 2 minutes; skipped when the image exists. With a registry, `docker build -t selfcoder-base:bookworm sandbox/` builds the same image."""
    from rich.console import Console

    from selfcoder.commands.config import settings_with_options
    from selfcoder.sandbox.image import build_image as build

    name = name or settings_with_options(Path(".")).settings.sandbox.image
    console = Console(stderr=True)
    noisy = ("I: Retrieving", "I: Validating", "I: Extracting", "I: Unpacking", "I: Configuring")
    with console.status(f"building {name}") as status:
        def progress(msg: str) -> None:
            status.update(msg)
            if not msg.startswith(noisy):
                console.print(msg, highlight=False, markup=False)

        build(name, progress, force=force, mirror=mirror)

def register(app: typer.Typer) -> None:
    app.add_typer(sandbox_app, name="sandbox")
