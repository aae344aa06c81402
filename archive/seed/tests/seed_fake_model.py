"""The model stand-in for the scaffold's tests: a tiny OpenAI-compatible HTTP server on a
unix socket that replays scripted replies, and a helper that runs the real agent process
(main.py) against it on a temporary git repository."""

import json
import os
import shutil
import socketserver
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler

SEED = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class FakeModel:
    """Replies, in order, with each item of `script`: a str is the assistant's message; a
    (status, body_dict) tuple is sent as-is (errors). After the script: a reply with no action."""

    def __init__(self, script, tokens_per_call=100):
        self.script, self.tokens_per_call, self.requests = list(script), tokens_per_call, []
        self.dir = tempfile.mkdtemp(prefix="scfm")  # short: unix socket paths max 108 bytes
        self.path = os.path.join(self.dir, "llm.sock")
        model = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                model.requests.append(body)
                item = model.script.pop(0) if model.script else "I have nothing more to add."
                status, data = item if isinstance(item, tuple) else (200, {
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": item}}],
                    "usage": {"prompt_tokens": model.tokens_per_call - 10, "completion_tokens": 10,
                              "total_tokens": model.tokens_per_call}})
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):
                pass

        self.server = socketserver.UnixStreamServer(self.path, Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        shutil.rmtree(self.dir, ignore_errors=True)


def make_repo(root, files):
    """A git repository at `root` holding `files` ({path: text}) in a baseline commit."""
    for path, text in files.items():
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t")
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "base"]):
        subprocess.run(cmd, cwd=root, env=env, check=True)


def run_agent(repo, model, task, timeout=120):
    """Run main.py as the runner does; return (exit code, events, stdout+stderr)."""
    task_path = os.path.join(model.dir, "task.json")
    with open(task_path, "w") as f:
        json.dump(task, f)
    env = dict(os.environ, SELFCODER_LLM_SOCKET=model.path)
    proc = subprocess.run([sys.executable, os.path.join(SEED, "main.py"), task_path], cwd=repo,
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    out = proc.stdout.decode("utf-8", "replace")
    events = [json.loads(line[len("@@selfcoder "):]) for line in out.splitlines()
              if line.startswith("@@selfcoder ")]
    return proc.returncode, events, out
