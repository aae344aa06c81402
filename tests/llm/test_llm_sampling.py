"""An attempt's sampling (temperature, seed) is imposed by the host on every model call: through
the gateway's socket whatever a sandboxed agent asks for (only a higher temperature, up to the
host's ceiling), through litellm to the scripted model,
and to an OpenAI-compatible server as llama.cpp's is (fake_llama_server.py records the bodies)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

from llm_helpers import make_settings, read_jsonl, scripted, user
from test_llm_socket import client

from selfcoder.core.config import Settings
from selfcoder.llm import Gateway, TrajectoryLog, local_server, read_trajectory
from selfcoder.llm.sampling import Sampling, attempt_sampling, new_series
from selfcoder.llm.scripted import sent_requests

FAKE = Path(__file__).with_name("fake_llama_server.py")
SAMPLING = Sampling(attempt=2, of=3, temperature=0.7, seed=123456, series="s")


def test_the_schedule_gives_each_attempt_its_temperature_and_seed():
    agent = Settings().agent
    agent.attempt_temperatures = [0.0, 0.5]
    series = new_series()
    runs = [attempt_sampling(agent, n, 4, series) for n in range(1, 5)]
    assert [s.temperature for s in runs] == [0.0, 0.5, 0.5, 0.5]  # the first greedy, the last repeats
    assert len({s.seed for s in runs}) == 4 and all(0 <= s.seed < 2**31 for s in runs)
    assert [attempt_sampling(agent, n, 4, series).seed for n in range(1, 5)] == [s.seed for s in runs]
    assert attempt_sampling(agent, 1, 4, new_series()).seed != runs[0].seed  # another solve, other seeds
    assert new_series(42) == new_series(42) == "42"  # agent.seed: a series that can be replayed


def test_a_sandboxed_agent_gets_the_hosts_temperature_seed_and_model(script, tmp_path):
    path = script(["one", "two"])
    log = tmp_path / "trajectory.jsonl"
    sock = tmp_path / "llm.sock"
    gw = Gateway(make_settings(scripted(path)), "run-s", TrajectoryLog(log), sampling=SAMPLING)
    with gw, gw.serve(sock):
        answers = client(sock, "POST", "/v1/chat/completions",
                         {"model": "gpt-4o", "messages": user("hi"), "temperature": 2.0, "seed": 7},
                         {"messages": user("again"), "top_p": 0.5})
    assert [a["status"] for a in answers] == [200, 200]
    assert answers[0]["body"]["model"] == f"scripted/{path}"
    sent = sent_requests(path)
    assert [(s["params"]["temperature"], s["params"]["seed"]) for s in sent] == [(0.7, 123456)] * 2
    assert sent[1]["params"]["top_p"] == 0.5  # what is not the attempt's sampling still passes
    request = read_trajectory(log)[0]
    assert request["params"]["temperature"] == 0.7 and request["params"]["seed"] == 123456
    assert (request["requested_model"], request["requested_temperature"], request["requested_seed"]) == ("gpt-4o", 2.0, 7)


def test_a_call_may_raise_the_attempts_temperature_up_to_the_ceiling_and_nothing_else():
    hot = Sampling(attempt=2, of=3, temperature=0.7, seed=1, ceiling=1.0)
    assert [hot.temperature_for(t) for t in (0.9, 1.5, 0.2, 0, None)] == [0.9, 1.0, 0.7, 0.7, 0.7]
    for junk in ("1.0", True, float("nan"), float("inf"), -3, [1.0], {"t": 1}):
        assert hot.temperature_for(junk) == 0.7, junk  # not a finite number above the attempt's: the attempt's
    assert SAMPLING.temperature_for(2.0) == 0.7  # no ceiling given: exactly the attempt's
    agent = Settings().agent
    agent.max_temperature = 0.0
    assert attempt_sampling(agent, 1, 1, "s").temperature_for(1.0) == 0.0  # max_temperature 0: every call greedy


def test_only_what_the_call_asks_can_raise_the_temperature_not_the_models_default(script, tmp_path):
    path = script(["one", "two"])
    greedy = Sampling(attempt=1, of=1, temperature=0.0, seed=5, ceiling=1.0)
    with Gateway(make_settings(scripted(path), model={"temperature": 0.9}), "run-g", sampling=greedy) as gw:
        gw.complete(user("hi"))
        gw.complete(user("again"), temperature=0.4)
    assert [s["params"]["temperature"] for s in sent_requests(path)] == [0.0, 0.4]


def test_without_an_attempt_the_callers_values_pass(script, tmp_path):
    path = script(["one"])
    with Gateway(make_settings(scripted(path)), "run-plain") as gw:
        gw.complete(user("hi"), temperature=0.3, seed=9)
    assert sent_requests(path)[0]["params"] == {"temperature": 0.3, "seed": 9, "max_tokens": 2048}


def test_the_local_server_is_sent_the_attempts_temperature_and_seed(tmp_path, monkeypatch):
    bodies = tmp_path / "bodies.jsonl"
    monkeypatch.setenv("FAKE_LLAMA_BODIES", str(bodies))
    events = tmp_path / "events.txt"
    events.touch()
    settings = SimpleNamespace(models_dir=tmp_path / "models", threads=1, n_ctx=2048, port=0, idle_stop_s=3600)
    lease = local_server.acquire(settings, server_cmd=[sys.executable, str(FAKE), "{port}", "ok", str(events), "{api_key}"])
    try:
        with Gateway(make_settings("local", model={"max_tokens": 16}), "local-s", sampling=SAMPLING) as gw:
            assert "def add" in gw.complete(user("add two numbers"), temperature=1.5, seed=1).text
    finally:
        lease.release()
        local_server.stop_server()
    sent = read_jsonl(bodies)
    assert len(sent) == 1 and sent[0]["stream"] is True
    assert (sent[0]["temperature"], sent[0]["seed"]) == (0.7, 123456)
    assert json.dumps(sent[0]).count("123456") == 1
