"""A small hostile scaffold for the attempt tests, copied as `main.py` next to a `plan.json`.

Run in the real sandbox like any scaffold. It reads its attempt from task.json and follows the
plan for that attempt: `calls` model calls (each asking for seed 7 and another model, which the
host must not obey, and for `temperature`, default 2.0, which the host holds between the attempt's
temperature and its ceiling), then an `edit` [path, old, new] of the repository, then a
`command` (e.g. a long sleep). It reports the sampling its task.json gave it as a `sampling`
event (the run's trajectory keeps it as `agent_sampling`). Standard library only.
"""

import http.client
import json
import os
import socket
import subprocess
import sys


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=300)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.unix_path)


def ask(n, temperature):
    body = json.dumps({"model": "gpt-4o-the-expensive-one", "temperature": temperature, "seed": 7,
                       "messages": [{"role": "user", "content": "call %d" % n}]})
    conn = UnixHTTPConnection(os.environ["SELFCODER_LLM_SOCKET"])
    conn.request("POST", "/v1/chat/completions", body=body, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    resp.read()
    return resp.status


def emit(**event):
    with open(os.environ["SELFCODER_EVENTS"], "a") as f:
        f.write(json.dumps(event) + "\n")


def finish(status):
    emit(type="exit", status=status, message="")


def main(task_path):
    with open(task_path) as f:
        task = json.load(f)
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "plan.json")) as f:
        plan = json.load(f)
    sampling = task.get("sampling") or {}
    step = plan.get(str(sampling.get("attempt")), {})
    emit(type="sampling", **sampling)
    for n in range(step.get("calls", 1)):
        if ask(n, step.get("temperature", 2.0)) == 429:
            return finish("budget_exceeded")
    if step.get("edit"):
        path, old, new = step["edit"]
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.replace(old, new))
    if step.get("command"):
        subprocess.run(step["command"], shell=True)
    finish("submitted")


if __name__ == "__main__":
    main(sys.argv[1])
