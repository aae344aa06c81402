"""`selfcoder config show`: the effective settings and where each value came from."""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(help="Inspect selfcoder's settings.", no_args_is_help=True)


@app.command("show")
def show(
    repo: Path = typer.Option(Path("."), "--repo", help="Repository whose selfcoder.toml / pyproject.toml to read."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Print every setting, its value and its source (default, user config, pyproject, selfcoder.toml, environment).

    Sources, lowest precedence first: defaults; the user config (~/.config/selfcoder/config.toml or
    $SELFCODER_CONFIG); [tool.selfcoder] in the repository's pyproject.toml; the repository's
    selfcoder.toml; environment variables SELFCODER_<SECTION>__<KEY>. The repository's two may only
    lower limits and set model.temperature: what else they ask for is ignored, one warning each.
    """
    from selfcoder.core.config import DEFAULT_SOURCE, flatten

    loaded = settings_with_options(repo.expanduser().resolve())
    rows = [(k, v, loaded.origins.get(k, DEFAULT_SOURCE)) for k, v in flatten(loaded.settings).items()]
    if as_json:
        typer.echo(json.dumps({k: {"value": v, "source": s} for k, v, s in rows}, default=str, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    from selfcoder.core.safe_text import text

    table = Table("setting", "value", "source")
    for key, value, source in rows:
        table.add_row(text(key), text(value), text(source))
    Console().print(table)


def settings_with_options(repo: Path | None = None, *, model=None, sandbox=None, agent=None, attempts=None):
    """Every command's settings: the user's (and `repo`'s, screened) with the command's --model,
    --sandbox, --agent, --attempts on top (given ones only, each recorded as its value's source),
    after printing what the repository's config was refused; the `LoadedSettings`."""
    from selfcoder.core.config import load_settings

    loaded = load_settings(repo)
    for key, value, option in (("model.name", model, "--model"), ("sandbox.backend", sandbox, "--sandbox"),
                               ("agent.node", agent, "--agent"), ("agent.attempts", attempts, "--attempts")):
        if value is not None:
            loaded.override(key, value, option)
    print_refusals(loaded)
    return loaded


def print_refusals(loaded) -> None:
    """One warning line on stderr per value a repository's config asked for and did not get."""
    from selfcoder.core.safe_text import visible

    for line in loaded.warnings:
        typer.secho(f"warning: {visible(line)}", err=True, fg="yellow")
