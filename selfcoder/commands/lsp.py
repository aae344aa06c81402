"""`selfcoder lsp`: the language server over stdio (what editors start), or TCP for debugging."""

from __future__ import annotations

import os
import sys
from typing import BinaryIO, Optional

import typer


def lsp_command(
    tcp: Optional[int] = typer.Option(
        None, "--tcp", metavar="PORT",
        help="Listen on 127.0.0.1:PORT (0: any free port) instead of stdio, for debugging. The client must send "
             "initializationOptions.token: the contents of the file the server names on stderr (yours only)."),
) -> None:
    """Start the language server: run the agent, watch its progress, review and apply its patch from your editor."""
    import logging

    protocol_out = _protocol_stdout() if tcp is None else None
    from selfcoder.lsp.driver import cancel_all, join_all
    from selfcoder.lsp.server import make_server

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    for handler in logging.getLogger().handlers:  # (a logger's filters do not reach its children)
        handler.addFilter(_no_traceback_for_user_errors)
    # over TCP the client is not the process that started us and chose our environment:
    # its initializationOptions are screened like a folder's settings
    server = make_server(trusted_init_options=tcp is None)
    try:
        if tcp is not None:
            from selfcoder.lsp.tcp import serve_tcp

            serve_tcp(server, "127.0.0.1", tcp)
        else:
            server.start_io(sys.stdin.buffer, protocol_out)
    finally:  # the client went away or asked us to exit: runs still going are cancelled, cleaned up
        cancel_all(server)
        join_all(server)


def _protocol_stdout() -> BinaryIO:
    """A private handle on stdout for the JSON-RPC writer; fd 1 and `sys.stdout` then go to stderr.
    A stray print (a library's banner with terminal escapes) or a child process writing to its
    inherited stdout would otherwise land in the middle of the protocol stream."""
    sys.stdout.flush()
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


def _no_traceback_for_user_errors(record) -> bool:
    """pygls logs every failed request with its traceback; a bad request (our RequestError /
    BadArguments, answered with a clear message) is the client's mistake, not a server fault."""
    from selfcoder.lsp.runs import BadArguments, RequestError

    error = record.exc_info[1] if record.exc_info else None
    return not isinstance(error, (RequestError, BadArguments))


def register(app: typer.Typer) -> None:
    app.command("lsp")(lsp_command)
