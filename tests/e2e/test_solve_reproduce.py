"""The reproduction-test path end to end (issue 17): a repository whose tests all pass, a problem
in words; the seed agent first writes a test that fails (Agentless), fixes the code, and the user
sees that test beside the patch, never counted in the verdict. Real sandbox, gateway, seed
scaffold, validation and CLI; the model is scripted."""

from __future__ import annotations

import json

import pytest
from e2e_replies import CALC_FIX, CALC_PROBLEM
from test_solve import read_jsonl
from test_solve_cli import selfcoder

from selfcoder.solve.attempts import make_task, solve
from selfcoder.validate.protected import REPRODUCTION_NOTE

FILE = "test_reproduce_issue.py"
REPRO = ("This test shows the problem:\n```python\nfrom calc import mean\n\n\ndef test_mean_of_three_is_two():\n"
         "    assert mean([1, 2, 3]) == 2\n```\n")
PASSES = "```python\nfrom calc import mean\n\n\ndef test_mean_of_one():\n    assert mean([4, 4]) > 0\n```\n"
MEAN_FIX = ("```python\ndef mean(values):\n    \"\"\"Arithmetic mean of a non-empty list of numbers.\"\"\"\n"
            "    total = sum(values)\n    count = len(values)\n    return total / count\n```\n")


@pytest.fixture
def cli_env(tmp_path, sandbox_root):
    return {"SELFCODER_CONFIG": str(tmp_path / "none.toml"), "SELFCODER_SANDBOX_ROOT": str(sandbox_root)}


def passing_calc(repo_copy):
    """calc_py without its failing test: every test passes, only the problem statement tells the bug."""
    repo = repo_copy("calc_py")
    tests = repo / "tests" / "test_ops.py"
    text = tests.read_text()
    assert "def test_mean_of_three():\n    assert mean([1, 2, 3]) == 2\n" in text
    tests.write_text(text.replace("def test_mean_of_three():\n    assert mean([1, 2, 3]) == 2\n", ""))
    return repo


def reproduce_statuses(run_dir):
    return [e["status"] for e in read_jsonl(run_dir / "trajectory.jsonl") if e["type"] == "agent_reproduce"]


def test_the_agent_reproduces_fixes_and_the_user_sees_its_test_beside_the_patch(repo_copy, script, cli_env, tmp_path):
    repo = passing_calc(repo_copy)
    proc = selfcoder("solve", str(repo), "-p", CALC_PROBLEM, "--model", script(REPRO, MEAN_FIX), "--apply",
                     cwd=tmp_path, env_extra=cli_env)
    out = " ".join(proc.stdout.split())  # rich wraps long lines
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{REPRODUCTION_NOTE}: {FILE} (fails before, passes after)" in out and "applying the patch (--apply) adds it too" in out
    assert "reproduce: reproduced" in out  # the run's progress shows the stage
    assert f"not tested (kept as in the snapshot): {FILE}" not in out  # said once, as what it is
    [run_dir] = [p.parent for p in repo.glob(".selfcoder/runs/*/result.json")]
    record = json.loads((run_dir / "result.json").read_text())
    assert record["status"] == "resolved" and record["reproduction_tests"] == [FILE]
    assert reproduce_statuses(run_dir) == ["written", "reproduced"]
    localized = [e for e in read_jsonl(run_dir / "trajectory.jsonl") if e["type"] == "agent_localize"]
    assert [(e["status"], e["functions"]) for e in localized] == [("found", ["calc/ops.py:mean"])]
    patch = (run_dir / "patch.diff").read_text()
    assert f"+++ b/{FILE}" in patch and "+    count = len(values)" in patch
    verdict = json.loads((run_dir / "validation.json").read_text())
    assert FILE in verdict["restored_files"] and not any(FILE in t for t in verdict["tests"]["after"])
    assert verdict["reproduction"] == {FILE: "fails before, passes after"}
    assert (repo / FILE).read_text().startswith("from calc import mean")  # --apply applied it too
    assert "count = len(values)\n" in (repo / "calc" / "ops.py").read_text()


def test_a_test_that_does_not_reproduce_is_retried_then_removed_and_the_loop_goes_on(repo_copy, script, settings_for):
    repo = passing_calc(repo_copy)
    result = solve(make_task(repo, CALC_PROBLEM), settings_for(script(PASSES, PASSES, CALC_FIX, "SUBMIT"))).best
    assert result.status == "resolved", result.message
    assert reproduce_statuses(result.run_dir) == ["written", "not_reproduced", "written", "not_reproduced", "removed"]
    assert FILE not in result.patch and "+    count = len(values)" in result.patch
    assert result.reproduction_tests == []
    assert json.loads((result.run_dir / "result.json").read_text())["reproduction_tests"] == []


def test_a_patch_of_only_the_agents_reproduction_test_is_not_resolved(repo_copy, script, settings_for):
    """The agent reproduces the problem, cannot fix it and submits: its test alone is the patch.
    The user still sees it, but it resolves nothing (it would have been 'resolved': no test fails)."""
    repo = passing_calc(repo_copy)
    result = solve(make_task(repo, CALC_PROBLEM),
                   settings_for(script(REPRO, "I cannot fix it.", "SUBMIT", "SUBMIT"))).best
    assert result.agent_status == "submitted" and f"+++ b/{FILE}" in result.patch
    assert result.status == "unresolved" and "nothing of the patch is left to test" in result.verdict.message
    assert result.reproduction_tests == [FILE]
