"""The runner as a library (issue 7, item 6): what eval, evolve and the language server rely on.

Real sandboxes, real validation, the scripted model. Each test names the behaviour a caller
embeds: cancel reaching the validation sandbox, one budget shared by parallel runs, typed events
with run ids, agent events on their own channel."""

from __future__ import annotations

import json
import threading

from e2e_replies import CALC_FIX, CALC_PROBLEM

from selfcoder.core.cancel import CancelToken
from selfcoder.core.events import AgentEvent, PhaseStarted, RunFinished, RunStarted, VerdictReady
from selfcoder.solve.runner import run
from selfcoder.solve.attempts import make_task
from selfcoder.core.status import RunStatus
from waiting import unique_sleep, wait_for_process, wait_no_process


def test_cancel_during_validation_is_cancelled_with_nothing_left(repo_copy, script, settings_for, sandbox_root):
    repo = repo_copy("calc_py")
    sleep = unique_sleep(97)
    # slow only in the validation sandbox (its scratch dir exists there), not when the agent runs the tests
    task = make_task(repo, CALC_PROBLEM, f"if [ -d .selfcoder-validate ]; then {sleep}; fi; python3 -m pytest -q")
    token = CancelToken()
    events, results = [], []
    worker = threading.Thread(target=lambda: results.append(
        run(task, settings_for(script(CALC_FIX)), cancel=token, on_event=events.append)))
    worker.start()
    wait_for_process(sleep)  # the validation sandbox is running the (slow) test command
    assert any(isinstance(e, PhaseStarted) and e.phase == "validate" for e in events)
    token.cancel()
    worker.join(60)
    assert not worker.is_alive()
    result = results[0]
    assert result.status == RunStatus.CANCELLED, result.message
    assert json.loads((result.run_dir / "result.json").read_text())["status"] == "cancelled"
    wait_no_process(sleep, 30)  # the test command did not survive
    assert not any(sandbox_root.iterdir()), list(sandbox_root.iterdir())
    assert isinstance(events[-1], RunFinished) and events[-1].status == "cancelled"


def test_a_token_cancels_one_run_not_the_next(repo_copy, script, settings_for, sandbox_root):
    """A cancelled run used to leave its Runner cancelled forever; tokens are per run."""
    repo = repo_copy("calc_py")
    token = CancelToken()
    token.cancel()
    first = run(make_task(repo, CALC_PROBLEM), settings_for(script(CALC_FIX)), cancel=token)
    second = run(make_task(repo, CALC_PROBLEM), settings_for(script(CALC_FIX)))
    assert (first.status, second.status) == (RunStatus.CANCELLED, RunStatus.RESOLVED)


def test_events_are_typed_and_carry_the_run_id(repo_copy, script, settings_for, sandbox_root):
    repo = repo_copy("calc_py")
    events = []
    result = run(make_task(repo, CALC_PROBLEM), settings_for(script(CALC_FIX)), on_event=events.append)
    assert result.status == RunStatus.RESOLVED
    assert {e.run_id for e in events} == {result.run_id}
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunFinished)
    assert [e.phase for e in events if isinstance(e, PhaseStarted)] == ["sandbox", "agent", "validate"]
    assert any(isinstance(e, AgentEvent) and e.kind == "exit" for e in events)
    assert any(isinstance(e, VerdictReady) and e.status == "resolved" for e in events)
    assert all(json.dumps(e.to_json()) for e in events)
    assert result.verdict.resolved and result.verdict.fail_to_pass.success


CHATTY_SCAFFOLD = """
import json, os, sys
events = open(os.environ["SELFCODER_EVENTS"], "a")
for n in range(1, 31):
    sys.stdout.write("noise " * 50000 + "\\n")  # 300 kB of output between events
    events.write(json.dumps({"type": "step", "n": n, "action": "noise"}) + "\\n"); events.flush()
events.write(json.dumps({"type": "exit", "status": "submitted", "message": "done"}) + "\\n")
"""


def test_a_chatty_agent_loses_no_event(repo_copy, settings_for, sandbox_root, tmp_path):
    """The agent's events have their own file: megabytes of output (capped to head and tail) cannot
    cut its steps or its exit event out, as they could when events shared stdout."""
    scaffold = tmp_path / "chatty"
    scaffold.mkdir()
    (scaffold / "main.py").write_text(CHATTY_SCAFFOLD)
    repo = repo_copy("calc_py")
    events = []
    result = run(make_task(repo, CALC_PROBLEM), settings_for("scripted/none"), scaffold=scaffold,
                 on_event=events.append, validate=False)
    steps = [e.data["n"] for e in events if isinstance(e, AgentEvent) and e.kind == "step"]
    assert steps == list(range(1, 31)), result.message
    assert result.agent_status == "submitted" and result.status == RunStatus.EMPTY_PATCH


def test_two_parallel_runs_share_one_budget_and_stop_together(repo_copy, script, settings_for, sandbox_root):
    from selfcoder.llm.budget import Budget

    repo_a, repo_b = repo_copy("calc_py"), repo_copy("wordcount_sh")
    endless = [f"```bash\necho step {i}\n```" for i in range(40)]
    settings = settings_for(script(*endless))
    settings.agent.max_steps = 40
    budget = Budget(max_calls=6, max_tokens=10_000_000, max_cost_usd=100.0)
    tasks = [make_task(repo_a, CALC_PROBLEM), make_task(repo_b, "wordcount.sh prints nothing for empty input", "./run_tests.sh")]
    results = [None, None]

    def go(i):
        results[i] = run(tasks[i], settings, budget=budget)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert [r.status for r in results] == [RunStatus.BUDGET_EXCEEDED] * 2, [r.message for r in results]
    assert 1 <= sum(r.usage["calls"] for r in results) <= 6  # never past the shared budget
