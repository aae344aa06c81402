"""`selfcoder lsp`: the language server over stdio (what editors start), or TCP for debugging."""

from __future__ import annotations

from typing import Optional

import typer


def lsp_command(
    tcp: Optional[int] = typer.Option(None, "--tcp", metavar="PORT", help="Listen on 127.0.0.1:PORT instead of stdio (for debugging)."),
) -> None:
    """Start the language server: run the agent, watch its progress, review and apply its patch from your editor."""
    import logging

    from selfcoder.lsp.driver import cancel_all, join_all
    from selfcoder.lsp.server import make_server

    logging.basicConfig(level=logging.WARNING)  # stderr: stdout carries the protocol
    for handler in logging.getLogger().handlers:  # (a logger's filters do not reach its children)
        handler.addFilter(_no_traceback_for_user_errors)
    server = make_server()
    try:
        if tcp is not None:
            server.start_tcp("127.0.0.1", tcp)
        else:
            server.start_io()
    finally:  # the client went away or asked us to exit: runs still going are cancelled, cleaned up
        cancel_all(server)
        join_all(server)


def _no_traceback_for_user_errors(record) -> bool:
    """pygls logs every failed request with its traceback; a bad request (our RequestError /
    BadArguments, answered with a clear message) is the client's mistake, not a server fault."""
    from selfcoder.lsp.runs import BadArguments, RequestError

    error = record.exc_info[1] if record.exc_info else None
    return not isinstance(error, (RequestError, BadArguments))


def register(app: typer.Typer) -> None:
    app.command("lsp")(lsp_command)
