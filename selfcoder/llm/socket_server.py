"""The OpenAI-compatible endpoint a sandboxed agent calls: HTTP over a unix socket, one per run.

The socket file is the only door from the sandbox to a model. Requests go through the run's
`Gateway`, so the host adds the credentials (no API key ever enters the sandbox), and the
run's budget and trajectory apply to them exactly as to host-side calls.

Routes:
- POST /v1/chat/completions: OpenAI request → OpenAI `chat.completion` response. The model is
  always the run's model (a `model` field in the request is recorded, not obeyed); streaming
  is not offered. Errors are OpenAI-style `{"error": {...}}`: 429 `budget_exceeded`,
  502 `model_error`, 400 `invalid_request_error`.
- GET /v1/models: the run's model.
- GET /v1/usage: the run's usage, budget and status so far (for agents that pace themselves).

The socket is chmod 0666 because agents run as another uid inside the sandbox. Paths longer
than a unix socket address allows are bound through /proc/self/fd/<dirfd>/<name>.
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

from selfcoder.errors import BudgetExceeded, ModelError

MAX_BODY = 32 << 20
_SUN_PATH_MAX = 100  # sockaddr_un.sun_path is 108 bytes; keep a margin


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, path: Path, gateway):
        self.gateway = gateway
        self.path = path
        super().__init__(str(path), _Handler)

    def handle_error(self, request, client_address) -> None:
        """An agent that went away mid-call (killed at its time limit, cancelled) is normal:
        the call is already in the trajectory. Anything else is reported once, briefly."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (BrokenPipeError, ConnectionResetError)):
            return
        print(f"selfcoder gateway: request failed: {type(exc).__name__}: {exc}", file=sys.stderr)

    def server_bind(self) -> None:
        encoded = os.fsencode(self.path)
        if len(encoded) <= _SUN_PATH_MAX:
            self.socket.bind(str(self.path))
            return
        dfd = os.open(self.path.parent, os.O_PATH | os.O_DIRECTORY)
        try:
            self.socket.bind(f"/proc/self/fd/{dfd}/{self.path.name}")
        finally:
            os.close(dfd)


def _error(status: int, kind: str, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"message": message, "type": kind, "code": kind, "param": None}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "selfcoder-gateway/1"
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

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            return self._send(*_error(413, "invalid_request_error", f"request body over {MAX_BODY} bytes"))
        body = self.rfile.read(length) if length else b""
        if path != "/v1/chat/completions":
            return self._send(*_error(404, "not_found", f"no route POST {path}"))
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
            meta = {"requested_model": req["model"]} if isinstance(req.get("model"), str) else None
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

    def __init__(self, gateway, path: Path):
        self.gateway = gateway
        self.path = Path(path)
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
            self._server = _Server(self.path, self.gateway)
        except OSError as e:
            raise ModelError(f"cannot serve the model at {self.path}: {e.strerror}") from None
        os.chmod(self.path, 0o666)
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
        try:
            if stat.S_ISSOCK(os.lstat(self.path).st_mode):
                self.path.unlink()
        except FileNotFoundError:
            pass
