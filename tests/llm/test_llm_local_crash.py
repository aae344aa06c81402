"""The local server's crash is one clear error, and a slow reply is not a dead one (issue 7, items
2 and 3). llama.cpp is an external program: here a tiny real server (fake_llama_server.py) takes
its place through local_server's `server_cmd`, and dies by SIGILL/SIGKILL/exit 1, stalls, or
thinks for a while, exactly as the real one did. The supervisor, the gateway, the streaming and
`selfcoder model status` are the real ones."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from llm_helpers import make_settings, user

from selfcoder.core.errors import ModelError
from selfcoder.llm import Gateway, TrajectoryLog, local_server, local_state, read_trajectory

FAKE = Path(__file__).with_name("fake_llama_server.py")


@pytest.fixture
def fake_server(tmp_path):
    """Start the on-demand supervisor with the fake server in llama.cpp's place; yields (lease, events file)."""
    leases = []

    def start(mode: str, threads="auto"):
        events = tmp_path / f"events-{mode}.txt"
        events.touch()
        settings = SimpleNamespace(models_dir=tmp_path / "models", threads=threads, n_ctx=2048, port=0, idle_stop_s=3600)
        lease = local_server.acquire(settings, server_cmd=[sys.executable, str(FAKE), "{port}", mode, str(events),
                                                             "{api_key}"])
        leases.append(lease)
        return lease, events

    yield start
    for lease in leases:
        lease.release()
    local_server.stop_server()


def events_of(path: Path) -> list[str]:
    return path.read_text().split()


def gateway(tmp_path, **kw) -> Gateway:
    settings = make_settings("local", model={"max_retries": 3, "max_tokens": 64})
    return Gateway(settings, "local-run", TrajectoryLog(tmp_path / "t.jsonl"), retry_base_delay_s=0.01, **kw)


@pytest.mark.parametrize("mode, what, hint", [
    ("sigill", "was killed by SIGILL (illegal instruction)", "rebuild with `selfcoder model install --rebuild`"),
    ("sigkill", "was killed by SIGKILL (out of memory?", "free some memory"),
    ("exit1", "exited with code 1", "see "),
])  # fmt: skip
def test_a_crashed_server_is_one_clear_model_error_and_model_status_shows_it(fake_server, tmp_path, mode, what, hint):
    lease, events = fake_server(mode)
    with gateway(tmp_path) as gw:
        with pytest.raises(ModelError) as e:
            gw.complete(user("hi"))
    msg = str(e.value)
    assert msg.startswith(f"the local model server {what}") and hint in msg and "\n" not in msg
    assert str(local_state.state_dir() / "server.log") in msg
    assert "running a matmul kernel" in msg  # the last lines of its log
    assert gw.status == "model_error" and gw.summary()["error"] == msg
    assert gw.usage.retries == 0 and events_of(events) == ["start", "1"]  # no retries against a dead server
    out = subprocess.run([sys.executable, "-m", "selfcoder.cli", "model", "status", "--repo", str(tmp_path), "--json"],
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    crash = json.loads(out.stdout)["last_crash"]
    assert crash["what"] == local_state.describe_exit(crash["returncode"]) and what.startswith(crash["what"][:20])
    assert crash["server_pid"] == lease.state.server_pid and crash["log_tail"]
    text = subprocess.run([sys.executable, "-m", "selfcoder.cli", "model", "status", "--repo", str(tmp_path)],
                          capture_output=True, text=True, timeout=60).stdout  # fmt: skip
    assert "last crash:" in text and crash["what"] in text


def test_a_stalled_reply_is_stopped_on_the_server_before_the_retry(fake_server, tmp_path):
    lease, events = fake_server("stall")
    assert lease.state.threads == local_server.available_cpus()  # threads "auto"
    with gateway(tmp_path, stall_timeout_s=2.0) as gw:
        reply = gw.complete(user("write add"))
    assert reply.text == "def add(a, b): return a + b"
    # the abandoned request's connection was closed (llama.cpp stops generating) before the retry began
    assert events_of(events) == ["start", "1", "closed", "1", "start", "2", "done", "2"]
    records = read_trajectory(tmp_path / "t.jsonl")
    retry = next(r for r in records if r["type"] == "llm_retry")
    assert "no progress after 2 tokens" in retry["error"]
    progress = [r for r in records if r["type"] == "llm_progress"]
    assert progress and progress[0]["tokens"] == 1
    response = next(r for r in records if r["type"] == "llm_response")
    assert response["stream"]["tokens"] == 2 and response["attempts"] == 2
    assert reply.usage.completion_tokens >= 2 and reply.usage.prompt_tokens > 0  # counted: the server sends no usage


def test_a_server_busy_reading_a_long_prompt_is_slow_not_dead(fake_server, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_SLOW_S", "5")
    _, events = fake_server("slow")
    with gateway(tmp_path, stall_timeout_s=2.0) as gw:
        reply = gw.complete(user("a long prompt"))
    assert reply.text.startswith("def add") and gw.usage.retries == 0
    assert events_of(events) == ["start", "1", "done", "1"]
    response = next(r for r in read_trajectory(tmp_path / "t.jsonl") if r["type"] == "llm_response")
    assert response["stream"]["first_token_s"] > 2.0 and response["stream"]["server_busy_s"] > 2.0


def test_threads_auto_means_every_cpu_this_process_may_use():
    import os

    cpus = local_server.available_cpus()
    assert 1 <= cpus <= len(os.sched_getaffinity(0))
    assert local_server.resolve_threads("auto") == local_server.resolve_threads(0) == cpus
    assert local_server.resolve_threads(3) == 3
    with pytest.raises(ModelError, match="'auto'"):
        local_server.resolve_threads("many")
