"""The OpenAI-compatible endpoint a sandboxed agent calls: HTTP over a unix socket, one per run.

The socket file is the only door from the sandbox to a model. Requests go through the run's
`Gateway`, so the host adds the credentials (no API key ever enters the sandbox), and the
run's budget and trajectory apply to them exactly as to host-side calls.

Routes:
- POST /v1/chat/completions: OpenAI request → OpenAI `chat.completion` response. The model is
  always the run's model (a `model` field in the request is recorded, not obeyed), and so is the
  attempt's seed; its temperature too, unless the request asks for a higher one up to the host's
  ceiling (see sampling.py); streaming is not offered. Errors are OpenAI-style `{"error": {...}}`: 429 `budget_exceeded`,
  502 `model_error`, 400 `invalid_request_error`.
- GET /v1/models: the run's model.
- GET /v1/usage: the run's usage, budget and status so far (for agents that pace themselves).

Who may connect: the socket is 0600 and, given `owner_uid` (the sandbox's uid), owned by it, so
only the sandboxed agent (and root) can use the model on the user's key; mode and owner are set
between bind() and listen(), so no one can connect while it is still open to all.

What one agent can cost the host: at most MAX_CONNECTIONS connections are served at once (more
get 503 at once, without a thread); a body over MAX_BODY is refused with 413 before a byte of it
is read (Content-Length is checked first; chunked bodies are refused); a request arriving when
the budget is already spent gets 429 before its body is read. So twelve 30 MB requests cost the
host nothing (they used to be read and parsed in full, one thread each: 6.7 GB).

Paths longer than a unix socket address allows are bound through /proc/self/fd/<dirfd>/<name>.
"""

from __future__ import annotations

import json
import os
import sys
import socketserver
import stat
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from selfcoder.core.errors import BudgetExceeded, ModelError

MAX_BODY = 4 << 20  # an agent's whole conversation is well under this
MAX_CONNECTIONS = 4  # an agent makes one call at a time; a few spare for its helpers
IDLE_TIMEOUT_S = 120.0  # a connection that sends nothing (between or inside requests) this long is closed
_SUN_PATH_MAX = 100  # sockaddr_un.sun_path is 108 bytes; keep a margin


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, path: Path, gateway, owner_uid: int | None = None, max_connections: int = MAX_CONNECTIONS):
        self.gateway = gateway
        self.path = path
        self.owner_uid = owner_uid
        self.slots = threading.BoundedSemaphore(max_connections)
        super().__init__(str(path), _Handler)

    def process_request(self, request, client_address) -> None:
        """A thread for the connection when a slot is free; else 503 at once, from this thread."""
        if not self.slots.acquire(blocking=False):
            _refuse_connection(request, 503, "server_busy",
                               f"more than {MAX_CONNECTIONS} connections at once to the model socket")  # fmt: skip
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def handle_error(self, request, client_address) -> None:
        """An agent that went away mid-call (killed at its time limit, cancelled) is normal:
        the call is already in the trajectory. Anything else is reported once, briefly."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (BrokenPipeError, ConnectionResetError)):
            return
        print(f"selfcoder gateway: request failed: {type(exc).__name__}: {exc}", file=sys.stderr)

    def server_bind(self) -> None:
        """Bind, then make the socket 0600 (owned by `owner_uid`) before listen() lets anyone in."""
        dfd = os.open(self.path.parent, os.O_PATH | os.O_DIRECTORY)
        try:
            if len(os.fsencode(self.path)) <= _SUN_PATH_MAX:
                self.socket.bind(str(self.path))
            else:
                self.socket.bind(f"/proc/self/fd/{dfd}/{self.path.name}")
            os.chmod(self.path.name, 0o600, dir_fd=dfd)
            if self.owner_uid is not None and self.owner_uid != os.geteuid():
                os.chown(self.path.name, self.owner_uid, -1, dir_fd=dfd)
        finally:
            os.close(dfd)


def _refuse_connection(sock, status: int, kind: str, message: str) -> None:
    """Answer a connection we will not serve with one JSON error, without reading its request."""
    data = json.dumps(_error(status, kind, message)[1]).encode()
    reason = {503: "Service Unavailable"}.get(status, "Error")
    head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
            "Connection: close\r\n\r\n").encode()  # fmt: skip
    try:
        sock.settimeout(1.0)
        sock.sendall(head + data)
        sock.setblocking(False)
        for _ in range(16):  # take what the client already sent, so closing does not reset our answer
            if not sock.recv(65536):
                break
    except OSError:
        pass


def _error(status: int, kind: str, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"message": message, "type": kind, "code": kind, "param": None}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "selfcoder-gateway/1"
    timeout = IDLE_TIMEOUT_S
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # the trajectory is the log
        pass

    def address_string(self) -> str:
        return "unix"

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body, default=str).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        gw = self.server.gateway
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "/v1/models":
            self._send(200, {"object": "list", "data": [{"id": gw.model_name, "object": "model", "created": 0, "owned_by": "selfcoder"}]})
        elif path == "/v1/usage":
            self._send(200, gw.summary())
        else:
            self._send(*_error(404, "not_found", f"no route GET {path}"))

    def _refuse(self, status: int, kind: str, message: str, length: int = 0) -> None:
        """Answer before reading the body, then close. A body of up to MAX_BODY is read and thrown
        away after the answer (64 KiB at a time, never kept), because a client such as http.client
        sends the body after the headers and would fail with a broken pipe instead of reading
        our answer; a longer one is not read at all."""
        self.close_connection = True
        self._send(*_error(status, kind, message))
        try:
            self.wfile.flush()
            while 0 < length <= MAX_BODY:
                chunk = self.rfile.read(min(length, 65536))
                if not chunk:
                    break
                length -= len(chunk)
        except OSError:
            pass

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        if self.headers.get("Transfer-Encoding"):
            return self._refuse(411, "invalid_request_error", "send the body with a Content-Length, not chunked")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            return self._refuse(400, "invalid_request_error", "bad Content-Length")
        if length > MAX_BODY:
            return self._refuse(413, "invalid_request_error", f"request body of {length} bytes is over {MAX_BODY}")
        if path != "/v1/chat/completions":
            return self._refuse(404, "not_found", f"no route POST {path}", length)
        try:
            self.server.gateway.check_budget()
        except BudgetExceeded as e:
            return self._refuse(429, "budget_exceeded", str(e), length)
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            self.close_connection = True
            return
        self._send(*self._chat(body))

    def _chat(self, body: bytes) -> tuple[int, dict[str, Any]]:
        try:
            req = json.loads(body or b"null")
        except ValueError as e:
            return _error(400, "invalid_request_error", f"body is not JSON: {e}")
        if not isinstance(req, dict) or not isinstance(req.get("messages"), list) or not req["messages"]:
            return _error(400, "invalid_request_error", "'messages' must be a non-empty list")
        if not all(isinstance(m, dict) and isinstance(m.get("role"), str) for m in req["messages"]):
            return _error(400, "invalid_request_error", "each message must be an object with a 'role'")
        if req.get("stream"):
            return _error(400, "invalid_request_error", "streaming is not supported by the selfcoder gateway")
        if req.get("n", 1) != 1:
            return _error(400, "invalid_request_error", "only n=1 is supported")
        overrides = {k: req[k] for k in ("temperature", "max_tokens", "stop", "top_p", "seed", "tools",
                                         "tool_choice", "response_format") if k in req}  # fmt: skip
        if "max_tokens" not in overrides and "max_completion_tokens" in req:
            overrides["max_tokens"] = req["max_completion_tokens"]
        gw = self.server.gateway
        try:
            meta = {f"requested_{k}": req[k] for k in ("model", "temperature", "seed")  # recorded; see sampling.py
                    if isinstance(req.get(k), (str, int, float)) and not isinstance(req[k], bool)} or None
            result = gw.complete(req["messages"], source="socket", meta=meta, **overrides)
        except BudgetExceeded as e:
            return _error(429, "budget_exceeded", str(e))
        except ModelError as e:
            return _error(502, "model_error", str(e))
        except Exception as e:  # a bug on our side must still answer, not hang the agent
            return _error(500, "internal_error", f"{type(e).__name__}: {e}".splitlines()[0])
        try:
            out = json.loads(result.raw.model_dump_json())
        except Exception:
            out = {"id": f"chatcmpl-{result.call}", "object": "chat.completion", "created": int(time.time()),
                   "choices": [{"index": 0, "finish_reason": result.finish_reason,
                                "message": {"role": "assistant", "content": result.text}}]}  # fmt: skip
        out["model"] = result.model
        out["usage"] = {"prompt_tokens": result.usage.prompt_tokens, "completion_tokens": result.usage.completion_tokens,
                        "total_tokens": result.usage.total_tokens}  # fmt: skip
        return 200, out


class SocketEndpoint:
    """The endpoint of one gateway at one socket path, served from a background thread."""

    def __init__(self, gateway, path: Path, owner_uid: int | None = None):
        self.gateway = gateway
        self.path = Path(path)
        self.owner_uid = owner_uid
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            if stat.S_ISSOCK(os.lstat(self.path).st_mode):
                self.path.unlink()  # left by a killed run
            else:
                raise ModelError(f"{self.path} exists and is not a socket; not replacing it")
        except FileNotFoundError:
            pass
        try:
            self._server = _Server(self.path, self.gateway, self.owner_uid)
        except OSError as e:
            self._remove_socket()
            raise ModelError(f"cannot serve the model at {self.path}: {e.strerror}") from None
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name=f"llm-socket-{self.gateway.run_id}", daemon=True)  # fmt: skip
        self._thread.start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread:
            self._thread.join(timeout=5)
        self._remove_socket()

    def _remove_socket(self) -> None:
        try:
            if stat.S_ISSOCK(os.lstat(self.path).st_mode):
                self.path.unlink()
        except FileNotFoundError:
            pass
