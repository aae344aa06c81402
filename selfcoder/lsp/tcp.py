"""`selfcoder lsp --tcp PORT`: the language server on 127.0.0.1, for one client that proves it is
the user.

Any local user can connect to a port on 127.0.0.1, and the server runs the agent with the user's
keys and files. So at start a random token is written to a file only the user can read
(`token_path`), and a connection's first message must be `initialize` carrying it as
`initializationOptions.token`; anything else gets an error and the connection is closed before
the language server sees a byte of it. One authenticated session at a time (pygls's own TCP
server would share one protocol object between all connections, so a second connection could
ride on the first one's session); the server exits when that session ends, like the stdio server.

Even with the token, `initializationOptions` over TCP are screened like a folder's settings
(folder_settings.py): the model, endpoints, keys, agent and sandbox come from the user's config.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
import sys
import threading
from pathlib import Path

from pygls.io_ import run_async

from selfcoder.core.files import new_secret, write_private

MAX_FIRST_MESSAGE = 1 << 20
FIRST_MESSAGE_TIMEOUT_S = 30.0
_LENGTH = re.compile(rb"^Content-Length: *(\d+)\r?\n$", re.IGNORECASE)


def token_path(port: int) -> Path:
    from selfcoder.core.config import cache_dir

    return cache_dir() / "lsp" / f"tcp-{port}.token"


class _Replay:
    """The connection's reader, with the (checked, token-free) first message put back in front."""

    def __init__(self, first: bytes, reader: asyncio.StreamReader):
        self.buffer, self.reader = first, reader

    async def readline(self) -> bytes:
        if self.buffer:
            line, sep, rest = self.buffer.partition(b"\n")
            self.buffer = rest
            return line + sep
        return await self.reader.readline()

    async def readexactly(self, n: int) -> bytes:
        if self.buffer:
            out, self.buffer = self.buffer[:n], self.buffer[n:]
            return out + (await self.reader.readexactly(n - len(out)) if len(out) < n else b"")
        return await self.reader.readexactly(n)


async def _first_message(reader: asyncio.StreamReader) -> dict:
    length = None
    for _ in range(16):
        line = await reader.readline()
        if not line:
            raise ValueError("the connection closed")
        if line in (b"\r\n", b"\n"):
            break
        match = _LENGTH.match(line)
        if match:
            length = int(match.group(1))
    if length is None or length > MAX_FIRST_MESSAGE:
        raise ValueError("expected an LSP message with a Content-Length header")
    message = json.loads(await reader.readexactly(length))
    if not isinstance(message, dict):
        raise ValueError("not a JSON-RPC message")
    return message


def _check(message: dict, token: str) -> str | None:
    """Why `message` does not open an authenticated session (None: it does)."""
    if message.get("method") != "initialize" or "id" not in message:
        return "the first message must be `initialize`"
    params = message.get("params")
    options = params.get("initializationOptions") if isinstance(params, dict) else None
    given = options.get("token") if isinstance(options, dict) else None
    if not isinstance(given, str) or not hmac.compare_digest(given.encode(), token.encode()):
        return "initializationOptions.token is missing or wrong"
    return None


def _frame(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _refuse(writer: asyncio.StreamWriter, message: dict | None, reason: str, token_file: Path | None) -> None:
    text = f"selfcoder lsp: not authorised: {reason} (the token is in {token_file}, readable by the server's user only)"
    if isinstance(message, dict) and "id" in message:
        writer.write(_frame({"jsonrpc": "2.0", "id": message["id"], "error": {"code": -32600, "message": text}}))
    peer = writer.get_extra_info("peername")
    print(f"selfcoder lsp: refused a connection from {peer}: {reason}", file=sys.stderr, flush=True)


def serve_tcp(server, host: str, port: int) -> None:
    """Serve one authenticated client on host:port (0: any free port); prints where, and the token file."""
    stop = server._stop_event = threading.Event()
    token = new_secret()
    state = {"busy": False, "file": None}

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        message = None
        try:
            message = await asyncio.wait_for(_first_message(reader), FIRST_MESSAGE_TIMEOUT_S)
            reason = "another client is connected" if state["busy"] else _check(message, token)
            if reason:
                raise ValueError(reason)
        except (ValueError, asyncio.TimeoutError, asyncio.IncompleteReadError, UnicodeDecodeError) as e:
            _refuse(writer, message, str(e) or "no message in time", state["file"])
            writer.close()
            return
        state["busy"] = True
        del message["params"]["initializationOptions"]["token"]
        server.protocol.set_writer(writer)
        try:
            await run_async(stop_event=stop, reader=_Replay(_frame(message), reader), protocol=server.protocol,
                            error_handler=server.report_server_error)
        finally:
            server.shutdown()

    async def main() -> None:
        server._server = await asyncio.start_server(connection, host, port)
        actual = server._server.sockets[0].getsockname()[1]
        state["file"] = write_private(token_path(actual), token + "\n")
        print(f"selfcoder lsp: listening on {host}:{actual}; a client must send initializationOptions.token "
              f"= the contents of {state['file']}", file=sys.stderr, flush=True)
        async with server._server:
            await server._server.serve_forever()

    try:
        asyncio.run(main())
    except asyncio.CancelledError:
        pass
    finally:
        if state["file"] is not None:
            state["file"].unlink(missing_ok=True)
