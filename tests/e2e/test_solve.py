"""End to end: solve with the scripted model through the real gateway, sandbox, seed scaffold
and validation, on a Python and a non-Python repository, on both sandbox backends."""

from __future__ import annotations

import json

from e2e_replies import CALC_FIX, CALC_PROBLEM, WORDCOUNT_FIX, search_replace
from waiting import unique_sleep, wait_for_process

from selfcoder.llm.scripted import sent_requests
from selfcoder.solve.attempts import make_task, solve


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def assert_no_leftovers(sandbox_root, result):
    assert not sandbox_root.exists() or not any(sandbox_root.iterdir()), list(sandbox_root.iterdir())
    if result.run_dir and (result.run_dir / "result.json").exists():
        assert json.loads((result.run_dir / "result.json").read_text())["status"] == result.status


def test_python_repo_is_solved_and_validated(backend, repo_copy, script, settings_for, sandbox_root):
    repo = repo_copy("calc_py")
    original = (repo / "calc" / "ops.py").read_text()
    model = script(CALC_FIX)
    outcome = solve(make_task(repo, CALC_PROBLEM), settings_for(model, backend))
    result = outcome.best
    assert result.status == "resolved", result.message
    assert "+    count = len(values)" in result.patch
    assert (repo / "calc" / "ops.py").read_text() == original  # the user's files are untouched
    run = result.run_dir
    assert {p.name for p in run.iterdir()} >= {"task.json", "trajectory.jsonl", "patch.diff", "validation.json", "result.json"}
    verdict = json.loads((run / "validation.json").read_text())
    assert verdict["tests"]["after"]["tests/test_ops.py::test_mean_of_three"] == "passed"
    assert verdict["tests"]["before"]["tests/test_ops.py::test_mean_of_three"] == "failed"
    kinds = [e["type"] for e in read_jsonl(run / "trajectory.jsonl")]
    assert kinds.index("llm_request") < kinds.index("llm_response") < kinds.index("agent_exit")
    assert "agent_step" in kinds
    saved = json.loads((run / "result.json").read_text())
    assert saved["usage"]["calls"] == 1 and saved["usage"]["total_tokens"] > 0
    # the agent saw the problem and the failing test through the gateway
    first_prompt = json.dumps(sent_requests(model.removeprefix("scripted/"))[0])
    assert "returns 3.0 instead of 2.0" in first_prompt and "test_mean_of_three" in first_prompt
    assert_no_leftovers(sandbox_root, result)


def test_non_python_repo_with_its_own_test_command(backend, repo_copy, script, settings_for, sandbox_root):
    repo = repo_copy("wordcount_sh")
    task = make_task(repo, "wordcount.sh prints an empty line instead of 0 for empty input.", "./run_tests.sh")
    result = solve(task, settings_for(script(WORDCOUNT_FIX), backend)).best
    assert result.status == "resolved", result.message
    verdict = result.verdict
    assert verdict.fail_to_pass.success == ["empty input gives 0"]
    assert "tabs separate words" in verdict.pass_to_pass.success
    assert_no_leftovers(sandbox_root, result)


def test_malformed_replies_are_survived(repo_copy, script, settings_for, sandbox_root):
    repo = repo_copy("calc_py")
    model = script("I think the bug is somewhere. Let me see.", "<<<<<<< SEARCH only half a block", CALC_FIX)
    result = solve(make_task(repo, CALC_PROBLEM), settings_for(model)).best
    assert result.status == "resolved"
    steps = [e for e in read_jsonl(result.run_dir / "trajectory.jsonl") if e["type"] == "agent_step"]
    assert [s["action"] for s in steps[:2]] == ["format_error", "format_error"]
    assert_no_leftovers(sandbox_root, result)


def test_a_wrong_fix_is_not_validated(repo_copy, script, settings_for, sandbox_root):
    repo = repo_copy("calc_py")
    wrong = search_replace("calc/ops.py", "    count = len(values) - 1", "    count = len(values) + 1")
    result = solve(make_task(repo, CALC_PROBLEM), settings_for(script(wrong, "SUBMIT", "SUBMIT"))).best
    assert result.status == "unresolved"
    assert result.verdict.fail_to_pass.failure == ["tests/test_ops.py::test_mean_of_three"]


def test_attempts_stop_at_the_first_validated_one(repo_copy, script, settings_for, sandbox_root):
    repo = repo_copy("calc_py")
    outcome = solve(make_task(repo, CALC_PROBLEM), settings_for(script(CALC_FIX)), attempts=3)
    assert [r.status for r in outcome.attempts] == ["resolved"]


def test_attempts_are_all_used_when_none_validates(repo_copy, script, settings_for, sandbox_root):
    repo = repo_copy("calc_py")
    settings = settings_for(script("SUBMIT", "SUBMIT", "SUBMIT"))
    settings.agent.max_steps = 2
    outcome = solve(make_task(repo, CALC_PROBLEM), settings, attempts=2)
    assert [r.status for r in outcome.attempts] == ["empty_patch", "empty_patch"]
    assert len({r.run_id for r in outcome.attempts}) == 2


def test_budget_exhaustion_stops_the_run_cleanly(repo_copy, script, settings_for, sandbox_root):
    repo = repo_copy("calc_py")
    settings = settings_for(script("```bash\nls\n```", CALC_FIX), max_calls=1)
    result = solve(make_task(repo, CALC_PROBLEM), settings).best
    assert result.status == "budget_exceeded"
    assert result.agent_status == "budget_exceeded"
    assert json.loads((result.run_dir / "result.json").read_text())["status"] == "budget_exceeded"
    assert_no_leftovers(sandbox_root, result)


def test_model_errors_are_recorded(repo_copy, script, settings_for, sandbox_root):
    repo = repo_copy("calc_py")
    bad = {"error": "bad_request", "message": "the model refuses"}
    result = solve(make_task(repo, CALC_PROBLEM), settings_for(script(bad, bad, bad, bad))).best
    assert result.status == "model_error"
    assert_no_leftovers(sandbox_root, result)


def test_missing_test_command_is_a_recorded_status(repo_copy, script, settings_for, sandbox_root):
    repo = repo_copy("calc_py")
    task = make_task(repo, CALC_PROBLEM, "no-such-test-runner --all")
    result = solve(task, settings_for(script(CALC_FIX, "SUBMIT"))).best
    assert result.status == "test_cmd_failed"
    assert "no-such-test-runner" in result.verdict.message


def test_cancel_from_another_thread_stops_the_run(repo_copy, script, settings_for, sandbox_root):
    """What the language server does when the user cancels: the run's token, from another thread."""
    import threading

    from selfcoder.core.cancel import CancelToken
    from selfcoder.solve.runner import run

    repo = repo_copy("calc_py")
    sleep = unique_sleep(121)
    token = CancelToken()
    results = []
    settings = settings_for(script(f"```bash\n{sleep}\n```"))
    worker = threading.Thread(target=lambda: results.append(run(make_task(repo, CALC_PROBLEM), settings, cancel=token)))
    worker.start()
    wait_for_process(sleep, 120, "the agent never started its command")
    token.cancel()
    worker.join(30)
    assert not worker.is_alive()
    assert results[0].status == "cancelled"
    assert json.loads((results[0].run_dir / "result.json").read_text())["status"] == "cancelled"
    assert_no_leftovers(sandbox_root, results[0])
