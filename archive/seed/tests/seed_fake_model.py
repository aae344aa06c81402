"""The model stand-in for the scaffold's tests: a tiny OpenAI-compatible HTTP server on a
unix socket that replays scripted replies, and a helper that runs the real agent process
(main.py) against it on a temporary git repository."""

import json
import os
import re
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


def scaffold_copy(dest, config):
    """A copy of this scaffold at `dest` whose config.json has `config` merged in (each entry of
    "policies" merged into the policy's own settings); returns the copy's main.py."""
    shutil.copytree(SEED, dest, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    with open(os.path.join(dest, "config.json")) as f:
        merged = json.load(f)
    for key, value in config.items():
        if key == "policies":
            for name, settings in value.items():
                merged.setdefault("policies", {}).setdefault(name, {}).update(settings)
        else:
            merged[key] = value
    with open(os.path.join(dest, "config.json"), "w") as f:
        json.dump(merged, f)
    return os.path.join(dest, "main.py")


def run_agent(repo, model, task, timeout=120, config=None, events_file=True, env=None):
    """Run main.py as the runner does; return (exit code, events, stdout+stderr).
    `events_file`: events through $SELFCODER_EVENTS (as the runner does), else from stdout.
    `config`: settings merged into a copy of config.json (see scaffold_copy)."""
    task_path = os.path.join(model.dir, "task.json")
    with open(task_path, "w") as f:
        json.dump(task, f)
    main = scaffold_copy(os.path.join(model.dir, "scaffold"), config) if config else os.path.join(SEED, "main.py")
    events_path = os.path.join(model.dir, "events.jsonl")
    env = dict(os.environ, SELFCODER_LLM_SOCKET=model.path, **(env or {}))
    env.pop("SELFCODER_EVENTS", None)
    if events_file:
        env["SELFCODER_EVENTS"] = events_path
    proc = subprocess.run([sys.executable, main, task_path], cwd=repo, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    out = proc.stdout.decode("utf-8", "replace")
    return proc.returncode, read_events(events_path) if events_file else stdout_events(out), out


def read_events(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def stdout_events(out):
    return [json.loads(line[len("@@selfcoder "):]) for line in out.splitlines()
            if line.startswith("@@selfcoder ")]


class Result:
    """One finished agent run: exit `code`, `events`, `steps` (their actions), `exit` (the exit
    event), the model's `requests`, the agent's output `out`."""

    def __init__(self, code, events, requests, out):
        self.code, self.events, self.requests, self.out = code, events, requests, out
        self.steps = [e["action"] for e in events if e["type"] == "step"]
        self.exit = events[-1] if events else {}
        self.status = self.exit.get("status")

    def sent(self, n):
        """The last message of the n-th request (0-based): what the model was told then."""
        return self.requests[n]["messages"][-1]["content"]


def solve(repo, script, task, tokens_per_call=100, **run_args):
    """Run the agent on `repo` against a model replying `script`; check that exactly one exit
    event came, last; return a Result."""
    model = FakeModel(script, tokens_per_call=tokens_per_call)
    try:
        code, events, out = run_agent(str(repo), model, task, **run_args)
    finally:
        model.close()
    assert events and events[-1]["type"] == "exit", out
    assert [e["type"] for e in events].count("exit") == 1, events
    return Result(code, events, model.requests, out)


def patch(repo):
    """The workspace's changes against the baseline commit, as `git diff` shows them."""
    subprocess.run(["git", "add", "-A"], cwd=str(repo), check=True)
    return subprocess.run(["git", "diff", "--cached"], cwd=str(repo), stdout=subprocess.PIPE,
                          check=True).stdout.decode()


def prompt(name):
    """The scaffold's own prompts/NAME.txt, as main.py loads it."""
    with open(os.path.join(SEED, "prompts", name + ".txt"), encoding="utf-8") as f:
        return f.read().strip()


def shows(template, message):
    """Whether `message` holds the filled-in `template`: every text between its {placeholders}
    is there. Checks that a prompt was sent without depending on its wording."""
    return all(part in message for part in re.split(r"\{\w+\}", template) if part.strip())
