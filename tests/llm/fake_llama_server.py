"""A tiny real OpenAI-compatible server that stands in for llama.cpp (an external program) in the
crash and stall tests: `python fake_llama_server.py PORT MODE EVENTS_FILE [API_KEY]`. Standard library only.
With API_KEY, like llama-cpp-python's `--api_key`, every request without `Authorization: Bearer
API_KEY` gets 401.

MODE, for POST /v1/chat/completions:
- sigill / sigkill / exit1: prints a line to its log, then dies that way (as llama.cpp did on a
  CPU whose AMX instructions the VM forbids);
- stall: the first request streams two tokens, then sends only SSE keep-alive pings (as
  llama-cpp-python's server does) until its client goes away; later requests answer normally;
- slow: burns CPU for a while before the first token (a long prompt being read), then answers.
Each request appends "start N", "closed N" (client gone mid-stream) or "done N" to EVENTS_FILE,
and its JSON body to the file $FAKE_LLAMA_BODIES names, if set.
"""

import json
import os
import select
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, MODE, EVENTS = int(sys.argv[1]), sys.argv[2], sys.argv[3]
API_KEY = sys.argv[4] if len(sys.argv) > 4 else None
SLOW_S = float(os.environ.get("FAKE_SLOW_S", "3"))
lock = threading.Lock()
count = [0]


def event(text):
    with lock, open(EVENTS, "a") as f:
        f.write(text + "\n")


def chunk(content, finish=None):
    body = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "qwen2.5-coder-1.5b",
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": content} if content else {},
                         "finish_reason": finish}]}
    return ("data: " + json.dumps(body) + "\n\n").encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def refused(self):
        if API_KEY is None or self.headers.get("Authorization") == f"Bearer {API_KEY}":
            return False
        data = json.dumps({"detail": {"error": {"message": "Invalid API key", "type": "invalid_request_error"}}}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        return True

    def do_GET(self):
        if self.refused():
            return
        data = json.dumps({"object": "list", "data": [{"id": "qwen2.5-coder-1.5b", "object": "model"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.refused():
            return
        if os.environ.get("FAKE_LLAMA_BODIES"):
            with lock, open(os.environ["FAKE_LLAMA_BODIES"], "ab") as f:
                f.write(body.replace(b"\n", b" ") + b"\n")
        with lock:
            count[0] += 1
            n = count[0]
        event(f"start {n}")
        if MODE in ("sigill", "sigkill", "exit1"):
            print(f"fake llama: request {n}: running a matmul kernel", flush=True)
            if MODE == "exit1":
                os._exit(1)
            os.kill(os.getpid(), signal.SIGILL if MODE == "sigill" else signal.SIGKILL)
            time.sleep(10)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        if MODE == "slow":
            end = time.monotonic() + SLOW_S
            while time.monotonic() < end:  # reading the prompt: CPU busy, nothing sent
                sum(i * i for i in range(10000))
        try:
            if MODE == "stall" and n == 1:
                for t in ("partial", " answer"):
                    self.wfile.write(chunk(t))
                    self.wfile.flush()
                while True:  # generation hangs; the event loop still pings
                    time.sleep(0.3)
                    readable, _, _ = select.select([self.connection], [], [], 0)
                    if readable and not self.connection.recv(1, socket_peek()):
                        raise BrokenPipeError
                    self.wfile.write(b": ping\n\n")
                    self.wfile.flush()
            for t in ("def add(a, b):", " return a + b"):
                self.wfile.write(chunk(t))
            self.wfile.write(chunk(None, "stop") + b"data: [DONE]\n\n")
            self.wfile.flush()
            event(f"done {n}")
        except (BrokenPipeError, ConnectionResetError):
            event(f"closed {n}")


def socket_peek():
    import socket

    return socket.MSG_PEEK


if __name__ == "__main__":
    print(f"fake llama: serving on 127.0.0.1:{PORT} ({MODE})", flush=True)
    ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
