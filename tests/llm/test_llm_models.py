"""Model names: `auto`, unknown names, missing API keys, unreachable and silent endpoints.
Each is one clear line, and inside a run a recorded status; none hangs."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from llm_helpers import make_settings, user

from selfcoder.core.errors import ModelError
from selfcoder.llm import Gateway, TrajectoryLog, read_trajectory
from selfcoder.llm.models import choose, resolve


def test_auto_is_local_without_keys_and_hosted_with_one():
    assert choose("auto", env={}) == "local"
    assert choose("auto", env={"OPENAI_API_KEY": "k"}) == "gpt-4o-mini"
    assert choose("auto", env={"ANTHROPIC_API_KEY": "k"}).startswith("anthropic/")
    assert choose("openai/x", env={}) == "openai/x"
    assert resolve("auto", env={}).kind == "local"


def test_unknown_model_name_is_one_line_model_error():
    with pytest.raises(ModelError, match="unknown model 'no-such-model-xyz'") as e:
        resolve("no-such-model-xyz", env={})
    assert "\n" not in str(e.value)


def test_missing_api_key_names_the_variable():
    with pytest.raises(ModelError, match="OPENAI_API_KEY") as e:
        resolve("gpt-4o-mini", env={})
    assert "\n" not in str(e.value)
    with pytest.raises(ModelError, match="ANTHROPIC_API_KEY"):
        resolve("anthropic/claude-haiku-4-5", env={})


def test_missing_key_inside_a_run_is_recorded(tmp_path):
    with Gateway(make_settings("gpt-4o-mini"), "r", TrajectoryLog(tmp_path / "t.jsonl")) as gw:
        with pytest.raises(ModelError, match="OPENAI_API_KEY"):
            gw.complete(user("hi"))
    assert gw.status == "model_error" and gw.usage.calls == 0
    assert read_trajectory(tmp_path / "t.jsonl")[0]["type"] == "llm_error"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_endpoint_fails_after_retries_with_one_line(tmp_path):
    settings = make_settings("openai/some-model", model={"api_base": f"http://127.0.0.1:{_closed_port()}/v1",
                                                         "max_retries": 2, "timeout_s": 5})  # fmt: skip
    with Gateway(settings, "r", TrajectoryLog(tmp_path / "t.jsonl"), retry_base_delay_s=0.01) as gw:
        with pytest.raises(ModelError, match="connection error") as e:
            gw.complete(user("hi"))
    assert "\n" not in str(e.value) and "after 3 attempts" in str(e.value)
    assert gw.status == "model_error" and gw.usage.retries == 2


def test_silent_endpoint_times_out_per_call_instead_of_hanging(tmp_path):
    """A server that accepts connections and never answers: each attempt ends at the call timeout."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                pass

    threading.Thread(target=accept, daemon=True).start()
    port = listener.getsockname()[1]
    settings = make_settings("openai/m", model={"api_base": f"http://127.0.0.1:{port}/v1", "max_retries": 1, "timeout_s": 1})
    started = time.monotonic()
    try:
        with Gateway(settings, "r", retry_base_delay_s=0.01) as gw:
            with pytest.raises(ModelError, match="timeout"):
                gw.complete(user("hi"))
    finally:
        stop.set()
        for c in held:
            c.close()
        listener.close()
    assert len(held) == 2  # two attempts reached the server
    assert time.monotonic() - started < 30  # bounded by timeout x attempts, not forever
