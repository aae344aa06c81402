"""The whole agent, run as the runner runs it (a real `python3 main.py task.json` process in a
temporary git repository), against a scripted OpenAI-compatible model on a unix socket.

They test the free loop alone (LOOP: the localise-first fast path off; test_seed_localize.py
tests that). These tests check behaviour (events, exit status, files changed, what reaches the model), not
the prompts' wording: a child that rewords a prompt still passes them."""

import pytest

from seed_cases import BUGGY, FIX, FIX_PATCH, FIXED, LOOP, calc_repo, changes, config, task
from seed_fake_model import patch, prompt, shows, solve


@pytest.fixture
def repo(tmp_path):
    return calc_repo(tmp_path)


def test_fixes_the_bug_in_one_reply_and_submits_when_tests_pass(repo):
    run = solve(repo, [FIX], task(), config=LOOP)
    assert (run.code, run.status, run.steps) == (0, "submitted", ["edit+submit"])
    assert run.events[0]["n"] == 1 and run.events[0]["tokens"] == 100 == run.exit["tokens"]
    assert changes(patch(repo)) == FIX_PATCH
    first = run.requests[0]["messages"]
    assert [m["role"] for m in first] == ["system", "user"] and run.requests[0]["model"] == "default"
    assert first[0]["content"] == prompt("system")
    assert BUGGY in first[1]["content"]  # the relevant file, whole
    assert "FAILED" in first[1]["content"] and "AssertionError" in first[1]["content"]  # failing tests
    assert len(run.requests) == 1


def test_explore_rewrite_whole_file_then_explicit_submit_without_test_cmd(repo):
    the_task = dict(task(), test_cmd=None, hints={"files": []})
    script = ["Let me look.\n```bash\ngrep -n return calc.py\n```",
              "calc.py\n```python\n" + FIXED + "```",
              "Done.\nSUBMIT"]
    run = solve(repo, script, the_task)
    assert (run.code, run.status, run.steps) == (0, "submitted", ["bash", "edit", "submit"])
    assert "2:    return a - b" in run.sent(1)  # the command's output reached the model
    assert BUGGY in run.requests[0]["messages"][1]["content"]  # found from the problem's mention of calc.py
    assert (repo / "calc.py").read_text() == FIXED
    roles = [m["role"] for m in run.requests[2]["messages"]]
    assert roles == ["system", "user", "assistant", "user", "assistant", "user"]


def test_malformed_replies_get_format_errors_then_recovery(repo):
    script = ["I think the bug is in add; it should add.",
              "calc.py\n<<<<<<< SEARCH\n    return a - b\n>>>>>>> REPLACE\n",
              FIX]
    run = solve(repo, script, task(), config=LOOP)
    assert (run.code, run.status, run.steps) == (0, "submitted", ["format_error", "format_error", "edit+submit"])
    assert shows(prompt("format_error"), run.sent(1)) and shows(prompt("format_error"), run.sent(2))
    assert "calc.py" in run.sent(1)  # the likeliest file to change is named
    assert (repo / "calc.py").read_text() == FIXED


def test_step_limit_leaves_the_workspace_unchanged_by_replies_without_actions(repo):
    run = solve(repo, ["I am not sure."] * 3, task(max_steps=2))
    assert (run.code, run.status, run.steps) == (1, "step_limit", ["format_error", "format_error"])
    assert patch(repo) == "" and len(run.requests) == 2


def test_failed_edit_leaves_the_file_and_shows_the_most_similar_lines(repo):
    wrong = FIX.replace("    return a - b\n=", "    return a-b\n=")
    run = solve(repo, [wrong, FIX], task())
    assert run.steps == ["edit", "edit+submit"] and run.status == "submitted"
    assert "return a - b" in run.sent(1)  # the file's real line, to copy next time
    assert (repo / "calc.py").read_text() == FIXED


def test_budget_exceeded(repo):
    refusal = (429, {"error": {"type": "budget_exceeded", "message": "run budget spent"}})
    run = solve(repo, [refusal], task(), config=LOOP)
    assert run.code == 1 and run.events == [{"type": "exit", "status": "budget_exceeded",
                                             "message": "run budget spent", "steps": 0, "tokens": 0}]
    assert len(run.requests) == 1


def test_model_errors_are_retried_then_model_error(repo):
    error = (500, {"error": {"type": "internal", "message": "boom"}})
    attempts = config()["retries"] + 1
    run = solve(repo, [error] * attempts + [FIX], task(), config={"retry_backoff_s": 0.01})
    assert run.code == 1 and run.status == "model_error" and "500" in run.exit["message"]
    assert len(run.requests) == attempts and patch(repo) == ""


def test_token_limit(repo):
    script = ["```bash\nls\n```", "```bash\ncat calc.py\n```", FIX]
    run = solve(repo, script, task(max_tokens=1500), tokens_per_call=1000, config=LOOP)
    assert (run.code, run.status, run.steps) == (1, "token_limit", ["bash", "bash"])
    assert run.exit["tokens"] == 2000 and run.exit["steps"] == 2


def test_time_limit(repo):
    the_task = dict(task(time_limit_s=0.5), test_cmd="sleep 20")
    run = solve(repo, [FIX], the_task)
    assert run.code == 1 and run.status == "time_limit", run.out
    assert run.requests == []


def test_limits_missing_from_the_task_come_from_config(repo):
    the_task = dict(task(), limits={"max_steps": None})
    run = solve(repo, [FIX], the_task)
    assert run.status == "submitted"


def test_a_bad_task_file_is_an_error_exit(repo, tmp_path):
    run = solve(repo, [FIX], "not a task")  # json.dump writes a string: not a dict
    assert (run.code, run.status) == (1, "error") and run.requests == []


def test_commands_reach_the_model_and_later_replies_see_the_history(repo):
    script = ["```bash\necho marker-$((6 * 7))\n```", "```bash\nls\n```", FIX]
    run = solve(repo, script, task(), config=LOOP)
    assert run.steps == ["bash", "bash", "edit+submit"]
    assert "marker-42" in run.sent(1) and "calc.py" in run.sent(2)
    assert run.requests[2]["messages"][2]["content"] == script[0]  # the model's own reply, kept
