"""Reproduce first (reproduce.py, policy `reproduce_first`): when every test passes at the start,
the agent writes a test that fails, localises from it and fixes the code; a test that does not
reproduce the problem is retried once, then removed. Whole runs of the real main.py against real
pytest runs in a temporary git repository, with a scripted model; and the module's pure parts."""

import pytest

from seed_cases import changes
from seed_fake_model import make_repo, patch, prompt, shows, solve
from test_seed_fast_path import GOOD, SUMMARY, summary_task

import reproduce

PASSING_TESTS = ("from summary import median, value_range\n\n\ndef test_odd_length():\n"
                 "    assert median([3, 1, 2]) == 2\n\n\ndef test_range():\n    assert value_range([5, 1, 9]) == 8\n")
FILE = "test_reproduce_issue.py"
REPRO = ("A test that shows the problem:\n```python\nfrom summary import median\n\n\n"
         "def test_median_of_even_list_is_mean_of_middle_two():\n    assert median([1, 2, 3, 4]) == 2.5\n```\n")
PASSES = "```python\nfrom summary import median\n\n\ndef test_median_odd():\n    assert median([1, 2, 3]) == 2\n```"
BROKEN = "```python\nfrom summary import no_such_name\n\n\ndef test_it():\n    assert no_such_name() == 1\n```"


@pytest.fixture
def repo(tmp_path):
    make_repo(str(tmp_path), {"summary.py": SUMMARY, "test_summary.py": PASSING_TESTS})
    return tmp_path


def events(run, kind):
    return [e["status"] for e in run.events if e["type"] == kind]


def test_a_reproduction_test_that_fails_is_kept_localised_from_and_fixed(repo):
    run = solve(repo, [REPRO, GOOD], summary_task())
    assert (run.code, run.status, run.steps) == (0, "submitted", ["reproduce", "function_edit+submit"])
    assert events(run, "reproduce") == ["written", "reproduced"]
    assert [(e["status"], e["functions"]) for e in run.events if e["type"] == "localize"] == [
        ("found", ["summary.py:median"])]
    asked = run.sent(0)
    assert shows(prompt("reproduce"), asked) and FILE in asked and SUMMARY in asked
    fix_prompt = run.sent(1)  # the function fix is asked from the reproduction test's failure
    assert shows(prompt("function_fix"), fix_prompt) and "assert 3 == 2.5" in fix_prompt
    assert FILE in fix_prompt and "test_median_of_even_list_is_mean_of_middle_two" in fix_prompt
    diff = patch(repo)
    assert "+++ b/%s" % FILE in diff and "+    assert median([1, 2, 3, 4]) == 2.5" in diff
    assert "+    return (ordered[mid - 1] + ordered[mid]) / 2" in changes(diff)


def test_a_fix_that_keeps_the_reproduction_test_failing_is_not_submitted(repo):
    """'tests pass now' covers the reproduction test: the repository's own tests still pass
    after this reply, yet it is no fix."""
    same = "```python\ndef median(values):\n    ordered = sorted(values)\n    return ordered[len(ordered) // 2] * 1\n```"
    run = solve(repo, [REPRO, same, "I am not sure."], summary_task(max_steps=3))
    assert (run.status, run.steps[:2]) == ("step_limit", ["reproduce", "function_edit"])
    assert "kept, but tests still fail" in run.sent(2) and "assert 3 == 2.5" in run.sent(2)


def test_a_test_that_passes_is_retried_with_what_happened_then_removed(repo):
    run = solve(repo, [PASSES, BROKEN, "SUBMIT", "SUBMIT"], summary_task(max_steps=4))
    assert events(run, "reproduce") == ["written", "not_reproduced", "written", "not_reproduced", "removed"]
    assert run.steps[:2] == ["reproduce", "reproduce"]
    retry = run.sent(1)
    assert shows(prompt("reproduce_retry"), retry) and "passed" in retry and "exited with code 0" in retry
    assert "exit code 2" in run.events[4]["detail"] or "collecting" in run.events[4]["detail"]
    assert not (repo / FILE).exists() and FILE not in patch(repo)
    assert [e["status"] for e in run.events if e["type"] == "localize"] == ["skipped"]
    assert shows(prompt("instance"), run.requests[2]["messages"][1]["content"])  # the loop goes on
    assert run.status == "submitted" and patch(repo) == ""


def test_a_reply_without_a_test_is_carried_out_by_the_loop(repo):
    run = solve(repo, [GOOD, "SUBMIT"], summary_task())
    assert events(run, "reproduce") == ["no_test"] and run.steps == ["function_edit", "submit"]
    assert len(run.requests) == 2 and run.requests[1]["messages"][2]["content"] == GOOD
    assert FILE not in patch(repo) and "+    mid = len(ordered) // 2" in patch(repo)


def test_a_reply_rewriting_another_test_file_is_an_edit_for_the_loop_not_a_reproduction(repo):
    """A test_ function in a block named for an existing file (the loop's whole-file format) is a
    change of that file, as evolve's self-modification replies make them: the loop carries it out."""
    rewrite = ("test_summary.py\n```python\ndef test_odd_length():\n    assert True\n\n\n"
               "def test_range():\n    assert True\n```\n\nSUBMIT\n")
    run = solve(repo, [rewrite, "SUBMIT"], summary_task())
    assert events(run, "reproduce") == ["no_test"] and not (repo / FILE).exists()
    assert "+    assert True" in patch(repo) and FILE not in patch(repo)
    named = "%s\n%s" % (FILE, REPRO.split("\n", 1)[1])  # the reproduction file itself named: still a reproduction
    run = solve(repo, [named, GOOD], summary_task())
    assert events(run, "reproduce") == ["written", "reproduced"] and run.status == "submitted"


def test_the_reproduction_counts_against_the_step_limit(repo):
    run = solve(repo, [PASSES, REPRO], summary_task(max_steps=1))
    assert (run.status, run.steps, len(run.requests)) == ("step_limit", ["reproduce"], 1)


@pytest.mark.parametrize("files, why", [({"run.sh": "echo ok\n"}, "no Python code"),
                                        ({"summary.py": SUMMARY, FILE: "x = 1\n"}, "exists already")])
def test_skipped_without_python_code_or_when_the_file_exists(tmp_path, files, why):
    make_repo(str(tmp_path), files)
    run = solve(tmp_path, ["SUBMIT", "SUBMIT"], dict(summary_task(max_steps=2), test_cmd="true"))
    assert [(e["status"], why in e["detail"]) for e in run.events if e["type"] == "reproduce"] == [("skipped", True)]
    assert shows(prompt("instance"), run.sent(0))


def test_off_means_the_loop_as_before(repo):
    run = solve(repo, ["SUBMIT", "SUBMIT"], summary_task(max_steps=2),
                config={"policies": {"reproduce_first": {"enabled": False}}})
    assert events(run, "reproduce") == [] and shows(prompt("instance"), run.sent(0))


@pytest.mark.parametrize("reply, found", [
    (REPRO, "def test_median_of_even_list_is_mean_of_middle_two():"),
    ("```\nimport x\n\ndef test_a():\n    assert x.f()\n```", "def test_a():"),
    ("```bash\ndef test_a():\n```\n```python\ndef helper():\n    pass\n```", None),  # no python test block
    ("```python\ndef median(values):\n    return 2\n```", None),  # a fix, not a test
    ("def test_a():\n    assert False\n", None),  # not in a block
])
def test_test_code_takes_the_first_block_that_defines_a_test(reply, found):
    code = reproduce.test_code(reply)
    assert (found in code) if found else code is None


@pytest.mark.parametrize("test_cmd, start", [
    ("/venv/bin/python -m pytest -q tests", "/venv/bin/python -m pytest"),
    ("pytest -x", "pytest"), (".venv/bin/pytest", ".venv/bin/pytest"),
    ("python3.11 -m unittest discover", "python3.11 -m pytest"),
    ("./run_tests.sh", "python3 -m pytest"), ("cd src && python -m pytest", "python -m pytest"),
])
def test_pytest_command_starts_pytest_as_the_test_command_does(test_cmd, start):
    assert reproduce.pytest_command(test_cmd, "test re.py") == start + " -q -p no:cacheprovider 'test re.py'"


@pytest.mark.parametrize("code, out, expected", [
    (1, "F\nFAILED test_reproduce_issue.py::test_a - assert 3 == 2.5\n1 failed", True),
    (1, "/usr/bin/python3: No module named pytest", False),  # exit 1, but no test ran
    (0, "1 passed", False), (2, "ERROR test_reproduce_issue.py\nInterrupted: 1 error during collection", False),
    (5, "no tests ran", False),
])
def test_only_a_failing_test_reproduces(code, out, expected):
    assert reproduce.reproduces(code, out) is expected
