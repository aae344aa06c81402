"""The whole agent, run as the runner runs it (a real `python3 main.py task.json` process in a
temporary git repository), against a scripted OpenAI-compatible model on a unix socket."""

import sys

import pytest

from seed_fake_model import FakeModel, make_repo, run_agent

BUGGY = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n"
TESTS = ("import unittest\nfrom calc import add\n\n\nclass T(unittest.TestCase):\n"
         "    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n")
FIX = "calc.py\n<<<<<<< SEARCH\n    return a - b\n=======\n    return a + b\n>>>>>>> REPLACE\n"
TEST_CMD = "%s -m unittest test_calc" % sys.executable


def task(**limits):
    return {"instance_id": "t-1", "problem_statement": "add() in calc.py returns a - b instead of a + b.",
            "repo_map": "calc.py: add, mul", "test_cmd": TEST_CMD, "hints": {"files": ["calc.py"]},
            "limits": dict({"max_steps": 5, "time_limit_s": 60, "max_tokens": 100000}, **limits)}


@pytest.fixture
def repo(tmp_path):
    make_repo(str(tmp_path), {"calc.py": BUGGY, "test_calc.py": TESTS})
    return tmp_path


def run(repo, script, the_task, **model_args):
    model = FakeModel(script, **model_args)
    try:
        code, events, out = run_agent(str(repo), model, the_task)
    finally:
        model.close()
    assert events and events[-1]["type"] == "exit", out
    assert [e["type"] for e in events].count("exit") == 1
    return code, events, model.requests, out


def steps(events):
    return [e["action"] for e in events if e["type"] == "step"]


def test_fixes_the_bug_in_one_reply_and_submits_when_tests_pass(repo):
    code, events, requests, out = run(repo, [FIX], task())
    assert code == 0, out
    assert events[-1]["status"] == "submitted"
    assert steps(events) == ["edit+submit"] and events[0]["tokens"] == 100
    assert (repo / "calc.py").read_text() == BUGGY.replace("a - b", "a + b")
    first = requests[0]["messages"]
    assert [m["role"] for m in first] == ["system", "user"] and requests[0]["model"] == "default"
    assert BUGGY in first[1]["content"]  # the relevant file, whole
    assert "FAILED" in first[1]["content"] and "AssertionError" in first[1]["content"]  # failing tests
    assert len(requests) == 1


def test_explore_rewrite_whole_file_then_explicit_submit_without_test_cmd(repo):
    the_task = dict(task(), test_cmd=None, hints={"files": []})
    script = ["Let me look.\n```bash\ngrep -n return calc.py\n```",
              "calc.py\n```python\n" + BUGGY.replace("a - b", "a + b") + "```",
              "Done.\nSUBMIT"]
    code, events, requests, out = run(repo, script, the_task)
    assert code == 0 and events[-1]["status"] == "submitted", out
    assert steps(events) == ["bash", "edit", "submit"]
    assert "2:    return a - b" in requests[1]["messages"][-1]["content"]
    assert "Wrote calc.py" in requests[2]["messages"][-1]["content"]
    assert BUGGY in requests[0]["messages"][1]["content"]  # found from the problem's mention of calc.py
    assert "a + b" in (repo / "calc.py").read_text()


def test_repeats_and_python_as_shell_are_refused_until_the_step_limit(repo):
    script = ["```bash\nls\n```", "```bash\nls\n```", "```bash\ndef add(a, b):\n    return a + b\n```"]
    code, events, requests, out = run(repo, script, task(max_steps=3))
    assert code == 1 and events[-1]["status"] == "step_limit", out
    assert steps(events) == ["bash", "repeat", "not_shell"]
    assert "already run this exact command" in requests[2]["messages"][-1]["content"]
    assert "word for word the same" in requests[2]["messages"][-1]["content"]
    assert "word for word" not in requests[1]["messages"][-1]["content"]
    assert len(requests) == 3


def test_malformed_replies_get_format_errors_then_recovery(repo):
    script = ["I think the bug is in add; it should add.",
              "calc.py\n<<<<<<< SEARCH\n    return a - b\n>>>>>>> REPLACE\n",
              FIX]
    code, events, requests, out = run(repo, script, task())
    assert code == 0 and events[-1]["status"] == "submitted", out
    assert steps(events) == ["format_error", "format_error", "edit+submit"]
    assert "no action found" in requests[1]["messages"][-1]["content"]
    assert "no ======= line" in requests[2]["messages"][-1]["content"]
    assert (repo / "calc.py").read_text() == BUGGY.replace("a - b", "a + b")


def test_failed_edit_is_reported_and_submit_waits_for_a_change(repo):
    wrong = FIX.replace("    return a - b\n=", "    return a-b\n=")
    script = [wrong + "\nSUBMIT", "SUBMIT", "SUBMIT"]
    code, events, requests, out = run(repo, script, dict(task(), test_cmd=None))
    assert steps(events) == ["edit+submit_refused", "submit_refused", "submit"]
    assert "FAILED: the SEARCH text was not found" in requests[1]["messages"][-1]["content"]
    assert code == 0 and (repo / "calc.py").read_text() == BUGGY


def test_budget_exceeded(repo):
    refusal = (429, {"error": {"type": "budget_exceeded", "message": "run budget spent"}})
    code, events, requests, out = run(repo, [refusal], task())
    assert code == 1 and events == [{"type": "exit", "status": "budget_exceeded",
                                     "message": "run budget spent", "steps": 0, "tokens": 0}]
    assert len(requests) == 1


def test_model_errors_are_retried_then_model_error(repo):
    error = (500, {"error": {"type": "internal", "message": "boom"}})
    code, events, requests, out = run(repo, [error] * 3 + [FIX], task())
    assert code == 1 and events[-1]["status"] == "model_error" and "HTTP 500" in events[-1]["message"]
    assert len(requests) == 3


def test_token_limit(repo):
    script = ["```bash\nls\n```", "```bash\ncat calc.py\n```", FIX]
    code, events, requests, out = run(repo, script, task(max_tokens=1500), tokens_per_call=1000)
    assert code == 1 and events[-1]["status"] == "token_limit", out
    assert steps(events) == ["bash", "bash"] and events[-1]["tokens"] == 2000


def test_time_limit(repo):
    the_task = dict(task(time_limit_s=0.5), test_cmd="sleep 20")
    code, events, requests, out = run(repo, [FIX], the_task)
    assert code == 1 and events[-1]["status"] == "time_limit", out
    assert requests == []


def test_stalled_conversation_restarts_fresh_with_more_temperature(repo):
    echo = "calc.py\n```\n" + BUGGY + "```"  # the file sent back unchanged: an edit that changes nothing
    script = [echo, echo, echo, FIX]
    code, events, requests, out = run(repo, script, task(max_steps=6))
    assert code == 0 and events[-1]["status"] == "submitted", out
    assert steps(events) == ["edit", "edit", "edit", "restart", "edit+submit"]
    assert [r["temperature"] for r in requests] == [0, 0, 0, 0.4]
    assert [m["role"] for m in requests[3]["messages"]] == ["system", "user"]  # a clean conversation
    assert "FAILED" in requests[3]["messages"][1]["content"]  # the failing tests, shown again
