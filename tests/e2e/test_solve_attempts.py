"""Attempts that differ, end to end: each attempt's temperature and seed reach its scaffold (in
task.json) and, imposed by the host, every model request; the host's validation selects among
patches; a validated attempt stops the rest; concurrent attempts share one budget and one cancel.

The scaffold here is attempt_scaffold.py (real sandbox, real gateway, real validation, scripted
model): it follows a per-attempt plan and asks the model for temperature 2.0, seed 7 and another
model every time, which the host must not obey (the temperature it may raise, up to the host's
ceiling `agent.max_temperature`)."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest
from e2e_replies import CALC_PROBLEM
from test_solve import assert_no_leftovers, read_jsonl
from waiting import unique_sleep, wait_for_process, wait_no_process

from selfcoder.core.cancel import CancelToken
from selfcoder.llm.budget import Budget
from selfcoder.llm.scripted import sent_requests
from selfcoder.solve.runner import RunResult
from selfcoder.solve.attempts import choose, make_task, normalise_diff, solve
from selfcoder.core.status import RunStatus

SCAFFOLD = Path(__file__).with_name("attempt_scaffold.py")
OPS = "calc/ops.py"
FIX = [OPS, "    count = len(values) - 1", "    count = len(values)"]
FIX_SPACED = [OPS, "    count = len(values) - 1", "    count  =  len(values)"]  # the same fix, normalised
FIX_LONGER = [OPS, "    count = len(values) - 1", "    count = len(values) or 1"]


@pytest.fixture
def planned(tmp_path):
    """planned({attempt: step}) -> a scaffold directory following that plan (see attempt_scaffold.py)."""

    def make(plan: dict) -> str:
        folder = tmp_path / f"scaffold-{len(list(tmp_path.glob('scaffold-*')))}"
        folder.mkdir()
        shutil.copy(SCAFFOLD, folder / "main.py")
        (folder / "plan.json").write_text(json.dumps({str(k): v for k, v in plan.items()}))
        return str(folder)

    return make


@pytest.fixture
def setup(repo_copy, script, settings_for, planned):
    def make(plan: dict, replies: int = 2, parallel: int = 1):
        model = script(*[f"reply {i}" for i in range(replies)])
        settings = settings_for(model)
        settings.agent.node = planned(plan)
        settings.agent.parallel_attempts = parallel
        return make_task(repo_copy("calc_py"), CALC_PROBLEM), settings, model.removeprefix("scripted/")

    return make


def by_session(script_path: str) -> dict[str, list[dict]]:
    sessions: dict[str, list[dict]] = {}
    for request in sent_requests(script_path):
        sessions.setdefault(request["session"], []).append(request["params"])
    return sessions


def test_each_attempt_gets_its_own_temperature_and_seed_in_task_json_and_every_request(setup, sandbox_root):
    task, settings, model = setup({n: {"calls": 2} for n in (1, 2, 3)})
    settings.agent.attempt_temperatures = [0.0, 0.6]
    settings.agent.max_temperature = 0.0  # every call at exactly its attempt's temperature
    outcome = solve(task, settings, attempts=3)
    assert [r.status for r in outcome.attempts] == ["empty_patch"] * 3
    samplings = [r.sampling for r in outcome.attempts]
    assert [(s["attempt"], s["of"], s["temperature"]) for s in samplings] == [(1, 3, 0.0), (2, 3, 0.6), (3, 3, 0.6)]
    assert len({s["seed"] for s in samplings}) == 3 and len({s["series"] for s in samplings}) == 1
    for result in outcome.attempts:
        trajectory = read_jsonl(result.run_dir / "trajectory.jsonl")
        given = next(e for e in trajectory if e["type"] == "agent_sampling")  # what the scaffold read in task.json
        assert {k: given[k] for k in result.sampling} == result.sampling
        requests = [e for e in trajectory if e["type"] == "llm_request"]
        assert [r["requested_temperature"] for r in requests] == [2.0, 2.0]  # asked for; max_temperature 0 holds it
        assert json.loads((result.run_dir / "result.json").read_text())["sampling"] == result.sampling
    sent = sorted(by_session(model).values(), key=len)
    expected = sorted([[(s["temperature"], s["seed"])] * 2 for s in samplings])
    assert sorted([(p["temperature"], p["seed"]) for p in params] for params in sent) == expected


def test_a_scaffold_may_raise_its_temperature_up_to_the_hosts_ceiling_never_lower_it(setup, sandbox_root):
    task, settings, model = setup({1: {"calls": 1, "temperature": 0.5}, 2: {"calls": 1, "temperature": 0.3},
                                   3: {"calls": 1, "temperature": 2.0}}, replies=3)
    settings.agent.attempt_temperatures, settings.agent.max_temperature = [0.0, 0.6], 0.8
    outcome = solve(task, settings, attempts=3)
    seeds = [r.sampling["seed"] for r in outcome.attempts]
    sent = sorted((p["temperature"], p["seed"]) for [p] in by_session(model).values())
    # asked 0.5 in a greedy attempt: 0.5; asked 0.3 in a 0.6 attempt: 0.6; asked 2.0: the ceiling
    assert sent == sorted([(0.5, seeds[0]), (0.6, seeds[1]), (0.8, seeds[2])])


def test_a_scaffold_cannot_choose_its_seed_or_model_or_pass_the_temperature_ceiling(setup, sandbox_root):
    task, settings, model = setup({1: {"calls": 1, "edit": FIX}})
    result = solve(task, settings).best
    assert result.status == "resolved", result.message
    [params] = [r["params"] for r in sent_requests(model)]
    assert params["temperature"] == settings.agent.max_temperature == 1.0  # asked 2.0
    assert params["seed"] == result.sampling["seed"] != 7
    request, response = [e for e in read_jsonl(result.run_dir / "trajectory.jsonl") if e["type"].startswith("llm_r")]
    assert request["model"] == f"scripted/{model}" and request["requested_model"] == "gpt-4o-the-expensive-one"
    assert response["type"] == "llm_response" and response["text"] == "reply 0"


def test_the_validated_patch_most_attempts_agree_on_is_chosen(setup, sandbox_root):
    """--all-attempts: every attempt runs; the first and smallest fix loses to the one two agree on."""
    task, settings, _ = setup({1: {"edit": FIX}, 2: {"edit": FIX_LONGER}, 3: {"edit": FIX_LONGER[:2] + ["    count = len(values)  or  1"]}})
    outcome = solve(task, settings, attempts=3, all_attempts=True)
    assert [r.status for r in outcome.attempts] == ["resolved"] * 3
    assert outcome.best is outcome.attempts[1]
    assert "or 1" in outcome.best.patch


def test_the_smallest_validated_patch_wins_a_tie():
    def result(n: int, status: RunStatus, new: str) -> RunResult:
        patch = f"diff --git a/{OPS} b/{OPS}\n--- a/{OPS}\n+++ b/{OPS}\n@@ -{n} +{n} @@\n-    count = len(values) - 1\n+{new}\n"
        return RunResult(run_id=str(n), run_dir=Path("."), status=status, patch=patch)

    longer, smallest = result(1, RunStatus.RESOLVED, "    count = len(values) or 1"), result(2, RunStatus.RESOLVED, "  count = len(values)")
    assert choose([longer, smallest]) is smallest
    assert normalise_diff(smallest.patch) == normalise_diff(result(9, RunStatus.RESOLVED, "count =  len(values)  ").patch)
    assert choose([]) is None


def test_a_validated_attempt_stops_the_concurrent_ones(setup, sandbox_root):
    sleep = unique_sleep(300)
    task, settings, _ = setup({1: {"edit": FIX}, 2: {"command": sleep}, 3: {"command": sleep}}, parallel=2)
    outcome = solve(task, settings, attempts=3)
    assert [r.status for r in outcome.attempts] == ["resolved", "cancelled"]  # attempt 3 never started
    assert outcome.best is outcome.attempts[0]
    assert outcome.attempts[1].message == "attempt 1 was validated"
    wait_no_process(sleep)
    for result in outcome.attempts:
        assert_no_leftovers(sandbox_root, result)


def test_concurrent_attempts_share_one_budget(setup, sandbox_root):
    task, settings, model = setup({n: {"calls": 5} for n in (1, 2, 3)}, replies=5, parallel=2)
    shared = Budget(max_tokens=1_000_000, max_cost_usd=100.0, max_calls=3)
    outcome = solve(task, settings, attempts=3, budget=shared)
    assert len(sent_requests(model)) == 3 and shared.calls == 3  # not 3 calls per attempt
    assert {str(r.status) for r in outcome.attempts} == {"budget_exceeded"} and len(outcome.attempts) == 2


def test_one_cancel_stops_every_concurrent_attempt(setup, sandbox_root):
    first, second = unique_sleep(301), unique_sleep(302)
    task, settings, _ = setup({1: {"command": first}, 2: {"command": second}}, parallel=2)
    token, outcomes = CancelToken(), []
    worker = threading.Thread(target=lambda: outcomes.append(solve(task, settings, attempts=2, cancel=token)))
    worker.start()
    wait_for_process(first, 120, "attempt 1 never started its command")
    wait_for_process(second, 120, "attempt 2 never started its command while attempt 1 ran")
    token.cancel("stopped by the user")
    worker.join(60)
    assert not worker.is_alive()
    assert [(r.status, r.message) for r in outcomes[0].attempts] == [("cancelled", "stopped by the user")] * 2
    wait_no_process(first)
    wait_no_process(second)
    for result in outcomes[0].attempts:
        assert_no_leftovers(sandbox_root, result)


def test_without_validation_every_attempt_runs_and_the_vote_picks(setup, sandbox_root, tmp_path):
    """How eval solves (its tests are hidden from the agent and from the choice)."""
    task, settings, _ = setup({1: {"edit": FIX}, 2: {"edit": FIX_LONGER}, 3: {"edit": FIX_LONGER[:2] + ["    count = len(values)  or  1"]}})
    settings.agent.attempts = 3
    outcome = solve(task, settings, run_dir=tmp_path / "instance", validate=False)
    assert [r.status for r in outcome.attempts] == ["not_validated"] * 3
    assert [r.run_dir for r in outcome.attempts] == [tmp_path / "instance" / f"attempt-{n}" for n in (1, 2, 3)]
    assert outcome.best is outcome.attempts[1]


def test_the_cli_runs_all_attempts_when_asked(setup, sandbox_root, tmp_path):
    from test_solve_cli import selfcoder

    task, settings, model = setup({1: {"edit": FIX}, 2: {"edit": FIX_LONGER}})
    env = {"SELFCODER_CONFIG": str(tmp_path / "none.toml"), "SELFCODER_SANDBOX_ROOT": str(sandbox_root)}
    args = ["solve", str(task.repo_path), "-p", CALC_PROBLEM, "--model", f"scripted/{model}", "--agent",
            settings.agent.node, "--json", "--attempts", "2"]
    first = selfcoder(*args, cwd=tmp_path, env_extra=env)
    every = selfcoder(*args, "--all-attempts", cwd=tmp_path, env_extra=env)
    assert first.returncode == every.returncode == 0, first.stderr + every.stderr
    assert len(json.loads(first.stdout)["attempts"]) == 1
    data = json.loads(every.stdout)
    assert len(data["attempts"]) == 2 and data["run_id"] == data["attempts"][0]  # both valid: the smaller wins
    assert "attempt 2 of 2" in every.stderr and "temperature 0.7" in every.stderr
