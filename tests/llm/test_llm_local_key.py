"""Any local user can reach 127.0.0.1: the local model server takes requests only with the API key
made at its start, which lives in a 0600 state file and which selfcoder's gateway sends. llama.cpp
is an external program: fake_llama_server.py takes its place and, like llama-cpp-python's
`--api_key`, answers 401 without the key (test_llm_local_real.py checks the real one); the
supervisor, the state file and the gateway are the real ones."""

from __future__ import annotations

import json
import stat
import sys
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest
from llm_helpers import make_settings, user

from selfcoder.llm import Gateway, TrajectoryLog, local_server

FAKE = Path(__file__).with_name("fake_llama_server.py")


def status_of(url: str, key: str | None, body: dict | None = None) -> int:
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {key}"} if key is not None else {})
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


@pytest.fixture
def server(tmp_path):
    settings = SimpleNamespace(models_dir=tmp_path / "models", threads=1, n_ctx=2048, port=0, idle_stop_s=3600)
    events = tmp_path / "events.txt"
    events.touch()
    lease = local_server.acquire(settings, server_cmd=[sys.executable, str(FAKE), "{port}", "ok", str(events), "{api_key}"])
    yield lease.state
    lease.release()
    local_server.stop_server()


def test_a_request_without_the_key_is_refused_and_the_gateway_sends_it(server, tmp_path):
    state_file = local_server.state_dir() / "state.json"
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
    key = json.loads(state_file.read_text())["api_key"]
    assert len(key) == 64 and key == server.api_key and key not in repr(server)
    chat = {"model": "qwen2.5-coder-1.5b", "messages": user("hi"), "max_tokens": 8}
    for attempt in (None, "", "x", "not-the-key"):  # the other local user
        assert status_of(f"{server.api_base}/chat/completions", attempt, chat) == 401
        assert status_of(f"{server.api_base}/models", attempt) == 401
    assert status_of(f"{server.api_base}/models", key) == 200
    settings = make_settings("local", model={"max_tokens": 16})
    with Gateway(settings, "local-run", TrajectoryLog(tmp_path / "t.jsonl")) as gw:
        assert "def add" in gw.complete(user("add two numbers")).text
