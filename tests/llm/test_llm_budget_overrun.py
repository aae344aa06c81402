"""A provider that reports far more prompt tokens than the gateway estimated (security round 3,
finding 9: 400 k tokens against a 150 k budget). The provider here is a real HTTP server speaking
the OpenAI API that answers every call with whatever usage the test asks for; the gateway, litellm
and the budget are the real ones."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest
from llm_helpers import make_settings, read_jsonl, user

from selfcoder.core.errors import BudgetExceeded
from selfcoder.llm import Budget, Gateway, TrajectoryLog

BUDGET = {"max_tokens": 150_000, "max_cost_usd": 100.0, "max_calls": 50}


@contextmanager
def provider(prompt_tokens: int, completion_tokens: int = 5, delay_s: float = 0.0) -> Iterator[dict]:
    """An OpenAI-compatible endpoint reporting `prompt_tokens` for every call; yields its state
    ({"api_base", "requests"})."""
    state = {"requests": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                state["requests"] += 1
            threading.Event().wait(delay_s)
            body = json.dumps({
                "id": "x", "object": "chat.completion", "created": 0, "model": "m",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                          "total_tokens": prompt_tokens + completion_tokens},
            }).encode()  # fmt: skip
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state["api_base"] = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def gateway_for(api_base: str, tmp_path, **budget) -> Gateway:
    settings = make_settings("openai/m", model={"api_base": api_base, "max_retries": 0, "max_tokens": 1000},
                             budget={**BUDGET, **budget})  # fmt: skip
    return Gateway(settings, "r", TrajectoryLog(tmp_path / "t.jsonl"))


def test_calls_that_report_far_more_prompt_tokens_than_estimated_stop_within_the_budget(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with provider(prompt_tokens=100_000) as p, gateway_for(p["api_base"], tmp_path) as gw:
        gw.complete(user("hi"))  # ~10 tokens estimated, 100 k reported: within the budget
        with pytest.raises(BudgetExceeded, match="token budget"):
            for i in range(5):
                gw.complete(user(f"step {i}"))  # the next estimate learns from the report: refused
    assert p["requests"] == 1
    assert gw.budget.used_tokens == gw.usage.total_tokens <= 150_000 and gw.status == "budget_exceeded"


def test_concurrent_calls_cannot_overrun_the_budget_before_the_first_report(tmp_path, monkeypatch):
    """Four calls at once, each reported at 100 k tokens: 400 k against 150 k before the fix."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with provider(prompt_tokens=100_000, delay_s=0.3) as p, gateway_for(p["api_base"], tmp_path) as gw:
        barrier, refused = threading.Barrier(4), []

        def one(i: int) -> None:
            barrier.wait()
            try:
                gw.complete(user(f"call {i}"))
            except BudgetExceeded as e:
                refused.append(str(e))

        threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert p["requests"] == 1 and len(refused) == 3
    assert gw.budget.used_tokens <= 150_000 and gw.budget.in_flight == 0


def test_the_first_report_past_the_budget_stops_the_run(tmp_path, monkeypatch):
    """A single reply reported at 400 k tokens: it is paid for, recorded, and the run stops there."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with provider(prompt_tokens=400_000) as p, gateway_for(p["api_base"], tmp_path) as gw:
        with pytest.raises(BudgetExceeded, match="reported 400005 tokens") as e:
            gw.complete(user("hi"))
        assert "\n" not in str(e.value)
        with pytest.raises(BudgetExceeded):
            gw.complete(user("again"))
    assert p["requests"] == 1 and gw.status == "budget_exceeded" and gw.usage.total_tokens == 400_005
    kinds = [r["type"] for r in read_jsonl(tmp_path / "t.jsonl")]
    assert kinds[:3] == ["llm_request", "llm_response", "budget_exceeded"]


def test_a_shared_budget_learns_the_providers_count_for_every_run(tmp_path, monkeypatch):
    """Two runs drawing on one shared budget: the second run's first call is not sent blind."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    shared = Budget(max_tokens=150_000, max_cost_usd=100.0, max_calls=50)
    with provider(prompt_tokens=100_000) as p:
        settings = make_settings("openai/m", model={"api_base": p["api_base"], "max_retries": 0, "max_tokens": 1000})
        with Gateway(settings, "a", budget=Budget.from_settings(settings.budget, parent=shared)) as a:
            a.complete(user("hi"))
        with Gateway(settings, "b", budget=Budget.from_settings(settings.budget, parent=shared)) as b:
            with pytest.raises(BudgetExceeded, match="shared"):
                b.complete(user("hi"))
    assert p["requests"] == 1 and shared.used_tokens <= 150_000
