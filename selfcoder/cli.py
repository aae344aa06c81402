"""The `selfcoder` command. Each capability lives in `selfcoder/commands/<name>.py` as a
typer app or function; this module only assembles them and turns `SelfcoderError` into one
line on stderr and an exit code (never a traceback for a user mistake).

Keep imports here cheap: heavy modules (litellm, docker) are imported inside commands.
"""

from __future__ import annotations

import sys

import typer

from selfcoder import __version__
from selfcoder.commands import config as config_cmd
from selfcoder.core.errors import SelfcoderError

app = typer.Typer(
    name="selfcoder",
    help="A coding agent that edits a sandboxed copy of your repository and offers only validated patches.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"selfcoder {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """selfcoder: solve problems in a sandbox, validate against the tests, review the diff."""


app.add_typer(config_cmd.app, name="config")


def _register_commands() -> None:
    """Add every command group (a missing module is a broken install: let it raise)."""
    import importlib

    for name in ("model", "sandbox", "solve", "demo", "lsp", "eval", "evolve", "archive", "bench"):
        importlib.import_module(f"selfcoder.commands.{name}").register(app)


_register_commands()


def _terminate_like_ctrl_c() -> None:
    """SIGTERM (a service manager, `timeout`, an editor closing) takes the Ctrl-C path: runs record
    `cancelled`, sandboxes and I/O directories are removed. Exit status 143, as for a plain SIGTERM."""
    import signal

    def handler(signum, frame):
        global _terminated
        _terminated = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


_terminated = False


def main() -> None:
    _terminate_like_ctrl_c()
    try:
        app()
    except SelfcoderError as e:
        from selfcoder.core.safe_text import visible  # messages may quote repository or agent text

        typer.secho(f"error: {visible(e)}", err=True, fg="red")
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        typer.secho("terminated" if _terminated else "interrupted", err=True, fg="yellow")
        sys.exit(143 if _terminated else 130)
    except SystemExit:
        if _terminated:  # click turned the KeyboardInterrupt into exit 130; say it was SIGTERM
            typer.secho("terminated", err=True, fg="yellow")
            sys.exit(143)
        raise


if __name__ == "__main__":
    main()
