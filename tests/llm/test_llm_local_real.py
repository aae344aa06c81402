"""The real local model (Qwen2.5-Coder-1.5B via llama.cpp), started on demand and through
`selfcoder model serve`. Marked llm_local: run with `pytest -m llm_local tests/llm`; skipped
when `selfcoder model install` has not been run."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from llm_helpers import UNIX_CLIENT, make_settings, user
from waiting import exited, wait_until

from selfcoder.core.config import LocalModelSettings
from selfcoder.llm import Gateway, TrajectoryLog, local_model, local_server, local_state, read_trajectory

pytestmark = pytest.mark.llm_local

MODELS_DIR = LocalModelSettings().models_dir
if not (local_model.llama_cpp_installed() and local_model.is_verified(local_model.model_path(MODELS_DIR))):
    pytest.skip("the local model is not installed (selfcoder model install)", allow_module_level=True)

PROMPT = [{"role": "user", "content": "Write a Python function add(a, b) that returns a + b. Reply with code only."}]


def test_on_demand_server_answers_and_stops_when_no_run_needs_it(tmp_path):
    settings = make_settings("auto", local_model={"idle_stop_s": 0}, model={"max_tokens": 64})
    sock = tmp_path / "llm.sock"
    with Gateway(settings, "local-run", TrajectoryLog(tmp_path / "t.jsonl")) as gw:
        reply = gw.complete(PROMPT)
        state = local_server.read_state()
        assert state is not None and state.mode == "on_demand" and state.threads == local_server.available_cpus()
        with gw.serve(sock):
            out = subprocess.run([sys.executable, str(UNIX_CLIENT), str(sock), "POST", "/v1/chat/completions",
                                  json.dumps({"messages": user("Say OK."), "max_tokens": 8})],
                                 capture_output=True, text=True, timeout=120)  # fmt: skip
    assert "def add" in reply.text and reply.model == "local"
    assert reply.usage.prompt_tokens > 0 and reply.usage.completion_tokens > 0 and reply.usage.cost_usd == 0
    socket_reply = json.loads(out.stdout)
    assert socket_reply["status"] == 200 and socket_reply["body"]["choices"][0]["message"]["content"].strip()
    assert gw.status == "ok" and gw.usage.calls == 2 and gw.usage.unpriced_calls == 0
    assert [r["type"] for r in read_trajectory(tmp_path / "t.jsonl")].count("llm_response") == 2
    wait_until(lambda: local_server.read_state() is None, 60, "the on-demand server kept its state file")
    wait_until(lambda: not local_state.alive(state.server_pid), 60, "the on-demand server did not stop")


def test_a_served_model_is_used_and_left_running(tmp_path):
    serve = subprocess.Popen([sys.executable, "-m", "selfcoder.cli", "model", "serve", "--repo", str(tmp_path)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        wait_until(lambda: local_server.read_state() is not None, 300, "model serve never wrote its state", gave_up=exited(serve))
        state = local_server.read_state()
        assert state.mode == "serve"
        with Gateway(make_settings("local", model={"max_tokens": 8}), "r") as gw:
            assert gw.complete(user("Say OK.")).text.strip()
        time.sleep(1.0)  # an absence check (the served model is not stopped with the run): only time shows it
        assert local_server.read_state() == state and serve.poll() is None  # still running
        status = json.loads(subprocess.run([sys.executable, "-m", "selfcoder.cli", "model", "status", "--json",
                                            "--repo", str(tmp_path)], capture_output=True, text=True).stdout)  # fmt: skip
        assert status["server"]["mode"] == "serve" and status["server"]["ready"] is True
        # another local user, without the key made at start: llama.cpp refuses
        request = urllib.request.Request(f"{state.api_base}/chat/completions", headers={"Content-Type": "application/json"},
                                         data=json.dumps({"messages": user("Say OK."), "max_tokens": 4}).encode())
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=60)
        assert refused.value.code == 401
    finally:
        serve.send_signal(signal.SIGINT)
        serve.wait(30)
    assert local_server.read_state() is None and not local_state.alive(state.server_pid)
