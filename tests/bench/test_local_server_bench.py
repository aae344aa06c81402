"""bench/local_server.py against a server started by hand (`--api-base`, as for llama.cpp's own
llama-server): the agent-shaped requests reach it with its key and model name, the report names the
server and its process, and a wrong key, an unreachable server or a URL without a port is one line.
The model is the only stand-in (replay_server.py, a real HTTP server in this process)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from replay_server import ReplayServer

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "local_server.py"
# --steps 2 --concurrent 2: 2 warm-ups + 2 x 2 conversation steps + 1 alone + 2 at once
REQUESTS = 9


def bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "--steps", "2", "--concurrent", "2", "--gen-tokens", "3", *args],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_measures_a_server_started_by_hand_with_its_key_and_model_name():
    with ReplayServer(["twelve chars"] * REQUESTS, api_key="k-123") as server:
        run = bench("--api-base", server.api_base, "--api-key", "k-123", "--model", "local-q4",
                    "--server-version", "version: 1 (abc123)", "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout)
    assert report["build"] == {"api_base": server.api_base, "model": "local-q4", "server_version": "version: 1 (abc123)"}
    assert report["server_pid"] == os.getpid()  # the process listening on that port: this one
    assert report["rss_mb"]["before"] and report["rss_mb"]["after"]
    assert len(server.requests) == REQUESTS and {r["model"] for r in server.requests} == {"local-q4"}
    reuse, no_reuse = report["prefix"]["reuse"]["steps"], report["prefix"]["no_reuse"]["steps"]
    assert [r["step"] for r in reuse] == [1, 2] and reuse[1]["prompt_tokens"] > reuse[0]["prompt_tokens"]
    systems = [r["messages"][0]["content"] for r in server.requests if r["messages"][0]["role"] == "system"]
    assert len(systems) == 4 and systems[0] == systems[1] and len(set(systems[2:])) == 2  # the nonce baseline
    assert [row["sequences"] for row in report["concurrency"]["rows"]] == [1, 2]
    assert report["concurrency"]["rows"][1]["tokens"] == 2 * report["concurrency"]["rows"][0]["tokens"] > 0
    assert len(no_reuse) == 2


def test_a_wrong_key_a_dead_port_and_a_url_without_port_are_one_line_each():
    with ReplayServer(["x"] * REQUESTS, api_key="right") as server:
        wrong_key = bench("--api-base", server.api_base, "--api-key", "wrong")
    assert wrong_key.returncode == 2 and server.requests == []
    assert wrong_key.stderr.startswith("error: 401 Unauthorized from ") and "check --api-key" in wrong_key.stderr

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    unreachable = bench("--api-base", dead)
    assert unreachable.returncode == 2 and unreachable.stderr.startswith(f"error: {dead}/chat/completions: Connect")

    no_port = bench("--api-base", "http://127.0.0.1/v1")
    assert no_port.returncode == 2 and "needs a URL with a port" in no_port.stderr
    for run in (wrong_key, unreachable, no_port):
        assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr and run.stdout == ""
