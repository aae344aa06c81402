"""The localise-first fast path (fast_path.py) in whole runs: the real main.py process, real
pytest runs in a temporary git repository, a scripted model. Before the free loop, the agent
shows the functions the failing tests point at and asks for the corrected whole function."""

import sys

import pytest

from seed_cases import BUGGY, FIX, FIXED, calc_repo, changes, task
from seed_fake_model import make_repo, patch, prompt, shows, solve

SUMMARY = ("def median(values):\n    ordered = sorted(values)\n    return ordered[len(ordered) // 2]\n\n\n"
           "def value_range(values):\n    return max(values) - min(values)\n")
TESTS = ("from summary import median, value_range\n\n\ndef test_even_length():\n"
         "    assert median([4, 1, 3, 2]) == 2.5\n\n\ndef test_odd_length():\n    assert median([3, 1, 2]) == 2\n\n\n"
         "def test_range():\n    assert value_range([5, 1, 9]) == 8\n")
GOOD = ("The median of an even list is the mean of the two middle values.\n```python\ndef median(values):\n"
        "    ordered = sorted(values)\n    mid = len(ordered) // 2\n    if len(ordered) % 2:\n"
        "        return ordered[mid]\n    return (ordered[mid - 1] + ordered[mid]) / 2\n```\n")
BREAKS_ODD = ("```python\ndef median(values):\n    ordered = sorted(values)\n"  # fixes the even case only
              "    return (ordered[len(ordered) // 2 - 1] + ordered[len(ordered) // 2]) / 2\n```")
NO_BETTER = ("```python\ndef median(values):\n    ordered = sorted(values)\n    middle = ordered[len(ordered) // 2]\n"
             "    return float(middle)\n```")  # one line longer: the retry must replace all of it


def summary_task(**limits):
    return {"instance_id": "m-1", "problem_statement": "median([1, 2, 3, 4]) gives 3, expected 2.5.",
            "repo_map": "", "hints": {"files": []}, "test_cmd": "%s -m pytest -q -p no:cacheprovider" % sys.executable,
            "limits": dict({"max_steps": 4, "time_limit_s": 60, "max_tokens": 100000}, **limits)}


@pytest.fixture
def repo(tmp_path):
    make_repo(str(tmp_path), {"summary.py": SUMMARY, "test_summary.py": TESTS})
    return tmp_path


def localize_events(run):
    return [(e["status"], e["functions"]) for e in run.events if e["type"] == "localize"]


def test_one_whole_function_reply_resolves_the_task(repo):
    run = solve(repo, [GOOD], summary_task())
    assert (run.code, run.status, run.steps) == (0, "submitted", ["function_edit+submit"])
    assert localize_events(run) == [("found", ["summary.py:median"])]
    asked = run.requests[0]["messages"][1]["content"]
    assert SUMMARY.split("\n\n\n")[0] in asked and "min(values)" not in asked  # only the function,
    assert "summary.py line 6: def value_range(values):" in asked  # and the other functions' names
    assert "test_even_length" in asked and "assert 3 == 2.5" in asked  # the failing output
    assert shows(prompt("function_fix"), asked) and len(run.requests) == 1
    assert "value_range" not in "".join(changes(patch(repo)))  # only median changed


def test_a_fix_that_breaks_another_test_is_undone_and_not_submitted(repo):
    run = solve(repo, [BREAKS_ODD, "I am not sure."], summary_task(max_steps=2))
    assert (run.status, run.steps) == ("step_limit", ["function_edit", "format_error"])
    assert "undone" in run.sent(1) and "test_odd_length" in run.sent(1)  # the retry says why
    assert patch(repo) == ""
    assert [s for s, _ in localize_events(run)] == ["found", "fallback"]


def test_a_change_that_breaks_nothing_stays_and_the_retry_sees_its_output(repo):
    run = solve(repo, [NO_BETTER, GOOD], summary_task())
    assert (run.status, run.steps) == ("submitted", ["function_edit", "function_edit+submit"])
    assert "kept" in run.sent(1) and "assert 3.0 == 2.5" in run.sent(1)
    fixed = GOOD.split("```python\n")[1].split("```")[0]
    assert (repo / "summary.py").read_text() == fixed + "\n\n" + SUMMARY.split("\n\n\n")[1]
    assert [m["role"] for m in run.requests[1]["messages"]] == ["system", "user", "assistant", "user"]


def test_an_unparsable_reply_falls_back_to_the_loop_with_the_steps_left(repo):
    bad = "```python\ndef median(values)\n    return 2.5\n```"
    run = solve(repo, [bad, "```bash\ncat summary.py\n```", GOOD.replace("```python", "summary.py\n```python")
                       .replace("```\n", "\n\n\ndef value_range(values):\n    return max(values) - min(values)\n```\n")],
                summary_task())
    assert run.steps == ["format_error", "bash", "edit+submit"] and run.status == "submitted"
    assert "not valid Python" in run.events[1]["detail"] and run.events[1]["status"] == "fallback"
    loop = run.requests[1]["messages"]  # the loop's first prompt, then the reply carried out by the loop
    assert [m["role"] for m in loop] == ["system", "user", "assistant", "user"] and loop[2]["content"] == bad
    assert shows(prompt("instance"), loop[1]["content"]) and SUMMARY in loop[1]["content"]  # the file, whole
    assert shows(prompt("format_error"), run.sent(1)) and "Steps left: 2" in run.sent(2)


def test_a_command_instead_of_a_function_is_run_by_the_loop_not_wasted(repo):
    """...and the loop, too, takes a reply that is just the corrected function."""
    run = solve(repo, ["```bash\necho looked-$((6 * 7))\n```", GOOD], summary_task())
    assert (run.status, run.steps) == ("submitted", ["bash", "function_edit+submit"])
    assert "looked-42" in run.sent(1) and len(run.requests) == 2  # the command ran in the loop
    assert "value_range" not in "".join(changes(patch(repo)))  # the loop too replaced just median


def test_a_reply_in_the_loop_formats_is_used_too(tmp_path):
    run = solve(calc_repo(tmp_path), [FIX], task())  # unittest tracebacks: add() from the failing test
    assert (run.status, run.steps) == ("submitted", ["edit+submit"])
    assert localize_events(run) == [("found", ["calc.py:add"])] and (tmp_path / "calc.py").read_text() == FIXED


@pytest.mark.parametrize("test_cmd, status", [("true", "skipped"), (None, None)])
def test_no_failing_test_means_no_localisation(tmp_path, test_cmd, status):
    """(Without a reproduction test first: test_seed_reproduce.py.)"""
    run = solve(calc_repo(tmp_path), ["SUBMIT", "SUBMIT"], dict(task(), test_cmd=test_cmd),
                config={"policies": {"reproduce_first": {"enabled": False}}})
    assert localize_events(run) == ([(status, [])] if status else [])
    assert shows(prompt("instance"), run.sent(0)) and BUGGY in run.sent(0)


def test_the_fast_path_counts_against_the_step_limit(repo):
    run = solve(repo, [NO_BETTER, GOOD], summary_task(max_steps=1))
    assert (run.status, run.steps, len(run.requests)) == ("step_limit", ["function_edit"], 1)


@pytest.mark.parametrize("enabled, steps", [(True, ["function_edit", "submit"]), (False, ["format_error", "submit_refused"])])
def test_the_loop_takes_a_corrected_function_of_a_file_it_showed(tmp_path, enabled, steps):
    reply = "```python\ndef add(a, b):\n    return a + b\n```"  # tests pass at the start: no localisation
    run = solve(calc_repo(tmp_path), [reply, "SUBMIT"], dict(task(max_steps=2), test_cmd="true"),
                config={"policies": {"localize_first": {"enabled": enabled}}})
    assert run.steps == steps and ((tmp_path / "calc.py").read_text() == FIXED) == enabled
    assert localize_events(run) == ([("skipped", [])] if enabled else [])
