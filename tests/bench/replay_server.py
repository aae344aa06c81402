"""A tiny OpenAI-compatible HTTP server that replays fixed replies: the model stand-in for mini-swe-agent.

mini-swe-agent runs in its own venv and process and reaches its model through its own litellm over
HTTP, so selfcoder's in-process scripted provider cannot serve it; this server plays the same role
(replies in order, every request recorded) at a URL. Requests without the expected API key, and
requests after the last reply, get 401, which mini treats as final (no retries). A reply given as
(text, seconds) is sent after that delay: a model call that runs past a time limit. With
`one_at_a_time`, like llama-cpp-python's server, a request waits until the one before it is answered.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer


class ReplayServer:
    def __init__(self, replies: list, api_key: str = "replay-key", one_at_a_time: bool = False):
        self.replies, self.api_key = list(replies), api_key
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _send(self, code: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                if self.headers.get("Authorization") != f"Bearer {server.api_key}":
                    return self._send(401, {"error": {"message": "wrong API key", "type": "auth"}})
                with server.lock:
                    server.requests.append(body)
                    n = len(server.requests) - 1
                if n >= len(server.replies):
                    return self._send(401, {"error": {"message": f"no reply left (all {len(server.replies)} used)"}})
                text, delay = server.replies[n] if isinstance(server.replies[n], tuple) else (server.replies[n], 0)
                time.sleep(delay)
                prompt = sum(len(str(m.get("content") or "")) for m in body.get("messages", [])) // 4 + 1
                self._send(200, {
                    "id": f"replay-{n}", "object": "chat.completion", "created": int(time.time()),
                    "model": body.get("model", "replay"),
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": prompt, "completion_tokens": len(text) // 4 + 1,
                              "total_tokens": prompt + len(text) // 4 + 1},
                })

        self.httpd = (HTTPServer if one_at_a_time else ThreadingHTTPServer)(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True  # closing never waits for a delayed reply
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> "ReplayServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
