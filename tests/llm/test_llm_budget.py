"""The budget holds under concurrency: a call reserves its worst case before it is sent (issue 8,
finding 6: 40 concurrent calls were all accepted, 4 M tokens and $40 against 150 k tokens and
$1.50), and one `Budget` shared by several gateways stops all of them when it is spent (issue 7,
item 6: evolve's --max-usd over parallel runs)."""

from __future__ import annotations

import threading

import pytest
from llm_helpers import make_settings, read_jsonl, scripted, user

from selfcoder.core.errors import BudgetExceeded
from selfcoder.llm import Budget, Gateway, TrajectoryLog
from selfcoder.llm.budget import estimate_prompt_tokens


def call_all(gw: Gateway, messages_list: list[list[dict]]) -> tuple[list, list]:
    """Send every conversation at the same moment from its own thread; (replies, refusals)."""
    barrier = threading.Barrier(len(messages_list))
    replies, refused, lock = [], [], threading.Lock()

    def one(messages):
        barrier.wait()
        try:
            r = gw.complete(messages)
            with lock:
                replies.append(r)
        except BudgetExceeded as e:
            with lock:
                refused.append(str(e))

    threads = [threading.Thread(target=one, args=(m,)) for m in messages_list]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return replies, refused


def test_forty_concurrent_calls_never_overshoot_the_budget(script, tmp_path):
    # each call: a ~37 k-token prompt and a reply that would run to 50 k tokens, $1 at these prices
    path = script([{"content": "long answer", "usage": {"completion_tokens": 50_000}}] * 40,
                  pricing={"input_per_token": 1e-5, "output_per_token": 1e-5})  # fmt: skip
    settings = make_settings(scripted(path), model={"max_tokens": 100_000, "max_retries": 0},
                             budget={"max_tokens": 150_000, "max_cost_usd": 1.5, "max_calls": 60})  # fmt: skip
    prompts = [user(f"{i} " + "x" * 150_000) for i in range(40)]
    with Gateway(settings, "r", TrajectoryLog(tmp_path / "t.jsonl")) as gw:
        replies, refused = call_all(gw, prompts)
    assert len(replies) + len(refused) == 40 and replies and refused
    assert gw.usage.total_tokens <= 150_000 and gw.usage.cost_usd <= 1.5 + 1e-9
    assert gw.budget.used_tokens == gw.usage.total_tokens and gw.budget.reserved_tokens == 0
    assert gw.status == "budget_exceeded" and all("budget exceeded" in r for r in refused)
    assert len(read_jsonl(path.with_name(path.name + ".sent.jsonl"))) == len(replies)  # refused calls were never sent


def test_a_call_waits_for_calls_in_flight_instead_of_being_refused():
    budget = Budget(max_tokens=1000, max_cost_usd=1.0, max_calls=10)
    first = budget.reserve(100, 800)
    assert first.max_tokens == 800
    got = []
    waiter = threading.Thread(target=lambda: got.append(budget.reserve(100, 800)))
    waiter.start()
    waiter.join(0.5)
    assert waiter.is_alive()  # 900 tokens are held by the call in flight: wait, do not refuse
    budget.settle(first, tokens=150)  # it used far less than its worst case
    waiter.join(10)
    assert got and got[0].max_tokens == 750 and budget.used_tokens == 150 and budget.reserved_tokens == 850
    with pytest.raises(BudgetExceeded, match="only 850 of 1000"):
        Budget.reserve(budget, 900, 10)  # could not fit even if the call in flight used nothing


def test_cost_reservation_cuts_max_tokens_to_what_the_money_allows():
    budget = Budget(max_tokens=10**9, max_cost_usd=1.0, max_calls=10)
    r = budget.reserve(1000, 10**6, price=(1e-4, 1e-3))  # prompt $0.10, then $0.001 per token
    assert r.max_tokens == 900 and r.cost_usd == pytest.approx(1.0)
    budget.settle(r, tokens=1100, cost_usd=0.2)
    with pytest.raises(BudgetExceeded, match="cost budget"):
        budget.reserve(10_000, 10, price=(1e-4, 1e-3))  # $1.00 of prompt against $0.80 left


def test_two_gateways_sharing_a_budget_in_two_threads_both_stop(script, tmp_path):
    reply = {"content": "ok", "usage": {"completion_tokens": 200}}
    shared = Budget(max_tokens=4000, max_cost_usd=100.0, max_calls=1000)
    gateways, errors = [], [None, None]
    for i in range(2):
        path = script([reply] * 100)
        settings = make_settings(scripted(path), model={"max_tokens": 200})
        gateways.append(Gateway(settings, f"run-{i}", TrajectoryLog(tmp_path / f"t{i}.jsonl"), budget=shared))

    def run(i):
        try:
            for n in range(100):
                gateways[i].complete(user(f"step {n}"))
        except BudgetExceeded as e:
            errors[i] = str(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for gw in gateways:
        gw.close()
    assert all(errors) and [gw.status for gw in gateways] == ["budget_exceeded"] * 2
    assert all(gw.usage.calls >= 1 for gw in gateways)
    total = sum(gw.usage.total_tokens for gw in gateways)
    assert total == shared.used_tokens <= 4000 and shared.in_flight == 0
    assert shared.max_tokens - total < estimate_prompt_tokens(user("step 99")) + 1  # stopped only when spent


def test_shared_budget_counts_calls_across_gateways(script, tmp_path):
    shared = Budget(max_tokens=10**6, max_cost_usd=10.0, max_calls=3)
    a = Gateway(make_settings(scripted(script(["1", "2", "3"]))), "a", budget=shared)
    b = Gateway(make_settings(scripted(script(["1", "2", "3"]))), "b", budget=shared)
    a.complete(user("x"))
    b.complete(user("x"))
    a.complete(user("x"))
    with pytest.raises(BudgetExceeded, match="3 of 3 calls"):
        b.complete(user("x"))
    assert (a.usage.calls, b.usage.calls, shared.calls) == (2, 1, 3) and b.status == "budget_exceeded"
    assert a.summary()["budget"]["used"]["calls"] == 3


def test_a_runs_own_limits_hold_under_a_shared_budget():
    """eval/evolve's --max-usd is shared; each run's own budget.max_calls still applies beside it."""
    from selfcoder.llm.budget import Budget

    shared = Budget(max_tokens=10_000, max_cost_usd=10.0, max_calls=5)
    run_a = Budget(max_tokens=10_000, max_cost_usd=10.0, max_calls=2, parent=shared)
    run_b = Budget(max_tokens=10_000, max_cost_usd=10.0, max_calls=10, parent=shared)
    for _ in range(2):
        run_a.settle(run_a.reserve(10, 10), tokens=20)
    with pytest.raises(BudgetExceeded, match="call budget"):
        run_a.reserve(10, 10)  # its own limit, though the shared one has room
    for _ in range(3):
        run_b.settle(run_b.reserve(10, 10), tokens=20)
    with pytest.raises(BudgetExceeded, match="shared"):
        run_b.reserve(10, 10)  # the shared limit, though its own has room
    assert shared.calls == 5 and shared.used_tokens == 100 and run_b.calls == 3
    assert shared.reserved_tokens == 0 and run_b.reserved_tokens == 0


def test_a_budget_for_many_runs_is_one_rule():
    """eval, archive compare, evolve and bench build their shared budget with `Budget.for_runs`:
    `runs` runs' tokens and calls and the `--max-usd` dollars, less what earlier work spent."""
    from selfcoder.core.config import BudgetSettings
    from selfcoder.core.errors import ConfigError
    from selfcoder.llm.budget import UNBOUNDED, Budget

    one = BudgetSettings(max_tokens=1000, max_cost_usd=0.5, max_calls=7)
    eval_budget = Budget.for_runs(one, 3, 2.0)
    assert (eval_budget.max_tokens, eval_budget.max_calls, eval_budget.max_cost_usd) == (3000, 21, 2.0)
    assert Budget.for_runs(one, 4, None).max_cost_usd == 2.0  # no --max-usd: the runs' own dollars
    assert Budget.for_runs(one, 0, 1.0).max_calls == 7  # no task: still a usable budget, not a crash
    resumed = Budget.for_runs(one, None, 2.0, spent_usd=0.75)  # evolve: runs not known ahead
    assert (resumed.max_tokens, resumed.max_calls, resumed.max_cost_usd) == (UNBOUNDED, UNBOUNDED, 1.25)
    for bad in (0, -1.0):
        with pytest.raises(ConfigError, match=r"^--max-usd must be greater than 0$"):
            Budget.for_runs(one, 3, bad)
    with pytest.raises(ConfigError, match=r"already spent \$2\.0000 of --max-usd \$2\.0000: raise --max-usd"):
        Budget.for_runs(one, None, 2.0, spent_usd=2.0)
