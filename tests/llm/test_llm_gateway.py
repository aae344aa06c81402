"""The gateway with the scripted model: accounting, retries, budget stop, trajectory log."""

from __future__ import annotations

import os
import threading

import pytest
from llm_helpers import make_settings, read_jsonl, scripted, user

from selfcoder.core.errors import BudgetExceeded, ConfigError, ModelError
from selfcoder.llm import Gateway, TrajectoryLog, read_trajectory


def gateway(path, tmp_path, **sections) -> Gateway:
    sections.setdefault("model", {}).setdefault("max_retries", 3)
    log = TrajectoryLog(tmp_path / "run" / "trajectory.jsonl")
    return Gateway(make_settings(scripted(path), **sections), "run-1", log, retry_base_delay_s=0.001)


def test_counts_tokens_and_cost_per_run(script, tmp_path):
    path = script(
        [{"content": "a", "usage": {"prompt_tokens": 100, "completion_tokens": 10}},
         {"content": "b", "usage": {"prompt_tokens": 200, "completion_tokens": 20}}],
        pricing={"input_per_token": 0.001, "output_per_token": 0.01},
    )  # fmt: skip
    with gateway(path, tmp_path) as gw:
        first = gw.complete(user("one"))
        gw.complete(user("two"))
    assert first.text == "a" and first.usage.cost_usd == pytest.approx(0.2)
    u = gw.usage
    assert (u.calls, u.prompt_tokens, u.completion_tokens, u.total_tokens) == (2, 300, 30, 330)
    assert u.cost_usd == pytest.approx(0.001 * 300 + 0.01 * 30)
    assert u.unpriced_calls == 0 and gw.status == "ok"
    assert u.to_json()["total_tokens"] == 330 and gw.summary()["usage"]["calls"] == 2


def test_model_litellm_cannot_price_counts_tokens_at_cost_zero(script, tmp_path):
    reply = {"content": "x", "usage": {"prompt_tokens": 5, "completion_tokens": 3}}
    path = script([reply, reply])
    with gateway(path, tmp_path) as gw:
        c = gw.complete(user("hi"))
        again = gw.complete(user("hi"))  # known unpriced by now: not asked again, still counted
    assert c.usage.cost_usd == 0 and not c.usage.priced and not again.usage.priced
    assert (gw.usage.total_tokens, gw.usage.cost_usd, gw.usage.unpriced_calls) == (16, 0, 2)
    assert gw.status == "ok"


def test_retries_rate_limit_timeout_and_server_errors_then_succeeds(script, tmp_path):
    path = script([{"error": "rate_limit"}, {"error": "timeout"}, {"error": "server_error"}, "finally"])
    with gateway(path, tmp_path, model={"max_retries": 3}) as gw:
        c = gw.complete(user("go"))
    assert c.text == "finally"
    assert (gw.usage.calls, gw.usage.retries, gw.usage.failed_calls) == (1, 3, 0)
    records = read_trajectory(tmp_path / "run" / "trajectory.jsonl")
    retries = [r for r in records if r["type"] == "llm_retry"]
    assert [r["attempt"] for r in retries] == [1, 2, 3]
    assert "rate limit" in retries[0]["error"] and "timeout" in retries[1]["error"]
    assert next(r for r in records if r["type"] == "llm_response")["attempts"] == 4


def test_gives_up_after_max_retries_with_one_line_error(script, tmp_path):
    path = script([{"error": "unavailable", "message": "overloaded"}] * 3 + ["never reached"])
    with gateway(path, tmp_path, model={"max_retries": 2}) as gw:
        with pytest.raises(ModelError) as e:
            gw.complete(user("go"))
    assert "overloaded" in str(e.value) and "after 3 attempts" in str(e.value) and "\n" not in str(e.value)
    assert gw.status == "model_error" and gw.usage.failed_calls == 1 and gw.usage.retries == 2


@pytest.mark.parametrize("kind", ["auth", "bad_request"])
def test_never_retries_auth_or_bad_request(script, tmp_path, kind):
    path = script([{"error": kind, "message": "nope"}, "should not be used"])
    with gateway(path, tmp_path) as gw:
        with pytest.raises(ModelError, match="nope"):
            gw.complete(user("go"))
    assert gw.usage.retries == 0 and gw.status == "model_error"
    assert len(read_jsonl(path.with_name(path.name + ".sent.jsonl"))) == 1


def test_status_returns_to_ok_after_a_later_success(script, tmp_path):
    path = script([{"error": "auth"}, "fine"])
    with gateway(path, tmp_path) as gw:
        with pytest.raises(ModelError):
            gw.complete(user("a"))
        assert gw.status == "model_error"
        gw.complete(user("b"))
        assert gw.status == "ok" and gw.last_error is None


def test_call_budget_stops_the_run_with_budget_exceeded(script, tmp_path):
    path = script(["1", "2", "3"])
    with gateway(path, tmp_path, budget={"max_calls": 2}) as gw:
        gw.complete(user("a"))
        gw.complete(user("b"))
        with pytest.raises(BudgetExceeded, match="2 of 2 calls"):
            gw.complete(user("c"))
        assert gw.status == "budget_exceeded"
        with pytest.raises(BudgetExceeded):  # stays refused
            gw.complete(user("d"))
    records = read_trajectory(tmp_path / "run" / "trajectory.jsonl")
    assert [r["type"] for r in records].count("budget_exceeded") == 2
    assert len(read_jsonl(path.with_name(path.name + ".sent.jsonl"))) == 2  # the model never saw "c"
    assert records[-1]["type"] == "llm_summary" and records[-1]["status"] == "budget_exceeded"


def test_token_and_cost_budgets_refuse_the_next_call(script, tmp_path):
    big = {"content": "x", "usage": {"prompt_tokens": 600, "completion_tokens": 500}}
    with gateway(script([big, big]), tmp_path, budget={"max_tokens": 1000}) as gw:
        with pytest.raises(BudgetExceeded, match="call 1 reported 1100 tokens"):
            gw.complete(user("a"))  # crosses the limit: paid for and recorded, and the run stops there
        with pytest.raises(BudgetExceeded, match="token budget"):
            gw.complete(user("b"))
    priced = script([big, big], pricing={"input_per_token": 0.001})
    with gateway(priced, tmp_path, budget={"max_cost_usd": 0.5}) as gw:
        with pytest.raises(BudgetExceeded, match=r"\$0\.6000 used of \$0\.5000"):
            gw.complete(user("a"))
        with pytest.raises(BudgetExceeded, match="cost budget"):
            gw.complete(user("b"))
    assert gw.status == "budget_exceeded"


def test_max_tokens_is_capped_by_the_token_budget_left(script, tmp_path):
    from selfcoder.llm.budget import estimate_prompt_tokens

    path = script([{"content": "x", "usage": {"prompt_tokens": 90, "completion_tokens": 0}}, "y"])
    with gateway(path, tmp_path, budget={"max_tokens": 200}, model={"max_tokens": 2048}) as gw:
        gw.complete(user("a"))
        gw.complete(user("b"), max_tokens=500)
    sent = read_jsonl(path.with_name(path.name + ".sent.jsonl"))
    prompt = estimate_prompt_tokens(user("a"))  # the prompt's reserved worst case comes off first
    assert sent[0]["params"]["max_tokens"] == 200 - prompt
    # the first reply counted its prompt at 90 tokens: the second prompt's estimate is scaled to match
    assert sent[1]["params"]["max_tokens"] == 200 - 90 - 90


def test_zero_budget_is_a_one_line_config_error():
    from selfcoder.core.config import load_settings

    with pytest.raises(ConfigError, match="budget.max_calls") as e:
        load_settings(None, env={"SELFCODER_BUDGET__MAX_CALLS": "0"})
    assert "\n" not in str(e.value)
    s = make_settings("local")
    object.__setattr__(s.budget, "max_tokens", 0)  # bypassing validation still cannot start a gateway
    with pytest.raises(ConfigError, match="max_tokens"):
        Gateway(s, "r")


def test_trajectory_has_every_request_and_response_as_it_happens(script, tmp_path):
    path = script(["reply one", "reply two"])
    log_path = tmp_path / "run" / "trajectory.jsonl"
    with gateway(path, tmp_path) as gw:
        gw.complete(user("question one"))
        mid = read_trajectory(log_path)  # already on disk before the run ends
        gw.trajectory.append({"type": "action", "command": "ls"})  # the runner logs actions in the same file
        gw.complete([{"role": "system", "content": "sys"}, *user("question two")], temperature=0.5)
    assert [r["type"] for r in mid] == ["llm_request", "llm_response"]
    records = read_trajectory(log_path)
    assert [r["type"] for r in records] == ["llm_request", "llm_response", "action", "llm_request", "llm_response", "llm_summary"]
    assert all(isinstance(r["ts"], float) for r in records)
    assert records[0]["messages"] == user("question one") and records[1]["text"] == "reply one"
    assert records[3]["params"]["temperature"] == 0.5 and records[4]["usage"]["total_tokens"] > 0


def test_trajectory_lines_stay_whole_under_concurrent_appends(tmp_path):
    log = TrajectoryLog(tmp_path / "t.jsonl")
    threads = [threading.Thread(target=lambda i=i: [log.append({"type": "x", "i": i, "pad": "z" * 5000}) for _ in range(50)])
               for i in range(8)]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records = read_jsonl(tmp_path / "t.jsonl")
    assert len(records) == 400 and all(r["type"] == "x" and len(r["pad"]) == 5000 for r in records)


def test_a_record_after_close_is_kept_without_holding_the_file_open(tmp_path):
    """A model call that outlived its run writes its end after the run closed the log: the record is
    kept, and no file stays open (a long-lived server ran out of descriptors that way)."""
    log = TrajectoryLog(tmp_path / "t.jsonl")
    log.append({"type": "llm_request"})
    log.close()
    before = len(os.listdir("/proc/self/fd"))
    log.append({"type": "llm_error", "error": "timed out"})
    assert len(os.listdir("/proc/self/fd")) == before
    assert [r["type"] for r in read_jsonl(tmp_path / "t.jsonl")] == ["llm_request", "llm_error"]


def test_malformed_script_inside_a_run_is_a_recorded_status(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("replies: {not: a list}")
    with Gateway(make_settings(scripted(bad)), "r", TrajectoryLog(tmp_path / "t.jsonl")) as gw:
        with pytest.raises(ModelError, match="'replies:' list"):
            gw.complete(user("x"))
    assert gw.status == "model_error" and "replies" in gw.summary()["error"]
    assert read_trajectory(tmp_path / "t.jsonl")[0]["type"] == "llm_error"


def test_each_run_replays_the_script_from_its_first_reply(script, tmp_path):
    path = script(["first", "second"])
    for run in range(2):
        with gateway(path, tmp_path) as gw:
            assert gw.complete(user(f"run {run}")).text == "first"
    sent = read_jsonl(path.with_name(path.name + ".sent.jsonl"))
    assert len({s["session"] for s in sent}) == 2
