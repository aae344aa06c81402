"""Each small-model policy of the loop (policies/), switched on and off through config.json,
shows in what the agent does: events, files, what the model is sent. The policies' defaults
live in the scaffold's config.json; these tests set the settings they depend on."""

import pytest

from seed_cases import BUGGY, FIX, FIXED, LOOP, calc_repo, task
from seed_fake_model import patch, prompt, shows, solve

ECHO = "calc.py\n```\n" + BUGGY + "```"  # the file sent back unchanged: an edit that changes nothing


def policy(name, **settings):
    """`settings` for policy `name`; the localise-first fast path off: these test the loop."""
    return {"policies": dict(LOOP["policies"], **{name: settings})}


@pytest.fixture
def repo(tmp_path):
    return calc_repo(tmp_path)


def test_stall_restart_starts_a_clean_conversation_at_a_higher_temperature(repo):
    settings = dict(policy("stall_restart", enabled=True, after_stalls=2, temperature_step=0.3,
                           max_temperature=0.5), temperature=0)
    run = solve(repo, [ECHO] * 4 + [FIX], task(max_steps=6), config=settings)
    assert run.status == "submitted" and run.steps == ["edit", "edit", "restart", "edit", "edit", "restart",
                                                       "edit+submit"]
    assert [r["temperature"] for r in run.requests] == [0, 0, 0.3, 0.3, 0.5]
    for n in (2, 4):
        assert [m["role"] for m in run.requests[n]["messages"]] == ["system", "user"]
        assert "FAILED" in run.requests[n]["messages"][1]["content"]  # the failing tests, run again


def test_without_stall_restart_the_conversation_goes_on(repo):
    settings = dict(policy("stall_restart", enabled=False), temperature=0)
    run = solve(repo, [ECHO] * 4 + [FIX], task(max_steps=6), config=settings)
    assert run.steps == ["edit"] * 4 + ["edit+submit"]
    assert [r["temperature"] for r in run.requests] == [0] * 5
    assert len(run.requests[4]["messages"]) == 10


@pytest.mark.parametrize("enabled", [True, False])
def test_same_reply_note(repo, enabled):
    run = solve(repo, ["Hmm.", "Hmm.", FIX], task(), config=policy("same_reply_note", enabled=enabled))
    assert run.steps == ["format_error", "format_error", "edit+submit"]
    assert not shows(prompt("same_reply"), run.sent(1))
    assert shows(prompt("same_reply"), run.sent(2)) == enabled


COUNT = "```bash\necho ran >> log.txt; wc -l < log.txt\n```"


@pytest.mark.parametrize("enabled, runs, steps", [(True, 1, ["bash", "repeat"]), (False, 2, ["bash", "bash"])])
def test_repeat_refusal_does_not_run_a_command_again(repo, enabled, runs, steps):
    run = solve(repo, [COUNT, COUNT], task(max_steps=2), config=policy("repeat_refusal", enabled=enabled))
    assert run.steps == steps and run.status == "step_limit"
    assert (repo / "log.txt").read_text().count("ran") == runs


def test_a_repeated_command_runs_again_after_an_edit(repo):
    run = solve(repo, [COUNT, FIX, COUNT, "SUBMIT"], dict(task(), test_cmd=None),
                config=policy("repeat_refusal", enabled=True))
    assert run.steps == ["bash", "edit", "bash", "submit"]
    assert (repo / "log.txt").read_text().count("ran") == 2


@pytest.mark.parametrize("enabled", [True, False])
def test_python_as_shell_refusal(repo, enabled):
    reply = "```bash\nfrom calc import add; touch ran.txt\n```"
    run = solve(repo, [reply], task(max_steps=1), config=policy("python_as_shell_refusal", enabled=enabled))
    assert run.steps == (["not_shell"] if enabled else ["bash"])
    assert (repo / "ran.txt").exists() != enabled


@pytest.mark.parametrize("settings, steps", [
    ({"enabled": True, "times": 1}, ["submit_refused", "submit"]),
    ({"enabled": True, "times": 2}, ["submit_refused", "submit_refused", "submit"]),
    ({"enabled": False}, ["submit"]),
])
def test_early_submit_refusal(repo, settings, steps):
    run = solve(repo, ["SUBMIT"] * 3, dict(task(), test_cmd="true"),
                config=policy("early_submit_refusal", **settings))
    assert run.steps == steps and run.status == "submitted" and patch(repo) == ""


@pytest.mark.parametrize("enabled, steps, status", [(True, ["edit+submit_refused"], "step_limit"),
                                                    (False, ["edit+submit"], "submitted")])
def test_failed_edit_submit_refusal(repo, enabled, steps, status):
    wrong = FIX.replace("    return a - b\n=", "    return a-b\n=") + "\nSUBMIT"
    settings = {"policies": dict(LOOP["policies"], failed_edit_submit_refusal={"enabled": enabled},
                                 early_submit_refusal={"enabled": False})}
    run = solve(repo, [wrong], dict(task(max_steps=1), test_cmd=None), config=settings)
    assert (run.steps, run.status) == (steps, status) and patch(repo) == ""


@pytest.mark.parametrize("enabled, steps", [(True, ["edit+submit"]), (False, ["edit", "submit"])])
def test_auto_submit_when_failing_tests_pass_after_an_edit(repo, enabled, steps):
    run = solve(repo, [FIX, "SUBMIT"], task(), config=policy("auto_submit", enabled=enabled))
    assert (run.steps, run.status, run.code) == (steps, "submitted", 0)
    assert (repo / "calc.py").read_text() == FIXED


def test_no_auto_submit_when_the_tests_passed_before_any_edit(repo):
    run = solve(repo, [FIX, "SUBMIT"], dict(task(), test_cmd="true"), config=policy("auto_submit", enabled=True))
    assert run.steps == ["edit", "submit"] and (repo / "calc.py").read_text() == FIXED


@pytest.mark.parametrize("settings", [{"policies": {"no_such_policy": {}}},
                                      policy("auto_submit", no_such_setting=1)])
def test_unknown_policy_settings_stop_the_run_before_any_model_call(repo, settings):
    run = solve(repo, [FIX], task(), config=settings)
    assert (run.code, run.status, run.requests) == (1, "error", [])
    assert "no_such" in run.exit["message"]
