"""The diagnosis sees what DGM's does — the grading verdict with the failing tests' output, the run
as readable steps, the patch, the agent files the run points to — and never takes a run that
failed for a reason outside the agent's code as its lesson. Real evaluations (sandbox, grading)
of the seed with the scripted model; only the model is scripted."""

from __future__ import annotations

import json
import random

import pytest
import yaml
from conftest import DIAGNOSIS, settings_for
from e2e_replies import CALC_FIX

from selfcoder.evolve import diagnosis, step, symptoms
from selfcoder.evolve.db import EvalRow
from selfcoder.evolve.run_log import RunLog
from selfcoder.core.scaffold import SEED_DIR
from selfcoder.core.task import load_tasks

SEED_FILES = sorted(p.relative_to(SEED_DIR).as_posix() for p in SEED_DIR.rglob("*")
                    if p.is_file() and "__pycache__" not in p.parts)


def evaluate(sim, name: str, task_id: str, *replies: str) -> EvalRow:
    """One real evaluation of the seed (agent run in a sandbox + the host's grading)."""
    from selfcoder.eval.evaluate import Evaluation

    script = sim["tmp"] / f"{name}.yaml"
    script.write_text(yaml.safe_dump({"replies": list(replies)}))
    task = next(t for t in load_tasks(sim["tasks"]) if t.instance_id == task_id)
    evaluation = Evaluation([task], sim["tmp"] / name, settings=settings_for(f"scripted/{script}"), workers=1,
                            scaffold=SEED_DIR, model_name="selfcoder/root")
    evaluation.run()
    record = evaluation.store.get(task_id)
    return step.evaluation_row("root", task_id, record, str(evaluation.store.run_dir(task_id)))


def sent_prompt(run_dir) -> str:
    for line in (run_dir / "diagnosis.jsonl").read_text().splitlines():
        event = json.loads(line)
        if event.get("type") == "llm_request":
            return event["messages"][-1]["content"]
    raise AssertionError("the diagnosis model was never called")


@pytest.fixture
def runs(sim):
    """calc-clamp failed by the agent (a wrong fix, submitted) and by the model (no reply left)."""
    agent_failed = evaluate(sim, "wrong", "calc_py-clamp", CALC_FIX, "SUBMIT", "SUBMIT", "SUBMIT")
    model_failed = evaluate(sim, "cut", "calc_py-clamp", CALC_FIX)
    assert not agent_failed.resolved and not model_failed.resolved
    return agent_failed, model_failed


def test_the_diagnosis_prompt_holds_the_verdict_the_failing_tests_output_and_readable_steps(sim, runs):
    agent_failed, _ = runs
    files = sorted(p.relative_to(SEED_DIR).as_posix() for p in SEED_DIR.rglob("*") if p.is_file())
    target = diagnosis.pick_target([agent_failed], random.Random(0), files)
    assert target.task == "calc_py-clamp" and target.kind == "failed"
    task = next(t for t in load_tasks(sim["tasks"]) if t.instance_id == "calc_py-clamp")
    out = sim["tmp"] / "diag"
    problem, _ = diagnosis.diagnose(target, task, settings_for(sim["diagnosis"]), out, None, agent_dir=SEED_DIR,
                                    in_scope=["config.json"], scope_note="You may change only config.json.")
    assert problem == DIAGNOSIS
    prompt = sent_prompt(out)
    # the grading verdict: the target test that still fails, with its output from the test log
    assert "tests/test_ops.py::TestClamp::test_outside" in prompt
    assert "TestClamp.test_outside" in prompt and "assert 15 == 10" in prompt
    assert ".selfcoder-validate" not in prompt  # the grader's own check tests are not the agent's business
    # the run as readable steps, not raw JSON
    assert "[model] I will fix it." in prompt and "[step 1: edit]" in prompt and "[agent ended: submitted]" in prompt
    assert '"type"' not in prompt and '{"ts"' not in prompt and "llm_request" not in prompt
    assert "-    count = len(values) - 1" in prompt  # the patch
    assert "--- config.json ---" in prompt and "You may change only config.json." in prompt
    assert "0x" not in prompt.replace("0x…", "")  # object addresses differ from run to run


def test_an_infrastructure_failure_is_never_the_lesson(runs):
    agent_failed, model_failed = runs
    assert RunLog.read(model_failed.log_path).infra_failure().startswith("the model could not be called")
    assert RunLog.read(agent_failed.log_path).infra_failure() is None
    for seed in range(20):  # both failed; only one of them is the agent's failure
        assert diagnosis.pick_target([model_failed, agent_failed], random.Random(seed)).log == \
            diagnosis.pick_target([agent_failed], random.Random(seed)).log
    alone = diagnosis.pick_target([model_failed, EvalRow("root", "calc_py-mean", True)], random.Random(0))
    assert alone.kind == "explore" and alone.task is None
    assert "resolved 1 of the 2" in alone.log and "outside the agent's code" in alone.log
    assert "calc_py-clamp: the model could not be called" in alone.log
    text = diagnosis.prompt(alone, None, "", "")
    assert "no failed run to learn from" in text and "outside the agent's code" in text and "Task:" not in text


def run_dir(tmp_path, name: str, result: dict, record: dict | None = None, events=()):
    run = tmp_path / name / "runs" / name
    run.mkdir(parents=True)
    (run / "result.json").write_text(json.dumps(result))
    (run / "trajectory.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    (tmp_path / name / "instances").mkdir()
    (tmp_path / name / "instances" / f"{name}.json").write_text(json.dumps(record or {"outcome": "unresolved"}))
    return RunLog.read(run)


TRACEBACK = ('Traceback (most recent call last):\n  File "/agent/main.py", line 60, in <module>\n'
             '  File "/agent/agent.py", line 120, in run\nKeyError: "steps"')


@pytest.mark.parametrize("result, record, lesson", [
    ({"status": "model_error", "agent_status": ""}, None, False),
    ({"status": "not_validated", "agent_status": "model_error"}, None, False),
    ({"status": "budget_exceeded", "agent_status": "submitted"}, None, False),
    ({"status": "error", "agent_status": "", "message": "bwrap: cannot mount"}, None, False),  # the sandbox
    ({"status": "not_validated", "agent_status": "submitted"}, {"outcome": "error", "message": "no environment"},
     False),  # the grading could not run
    ({"status": "not_validated", "agent_status": "error", "message": TRACEBACK}, None, True),  # the agent crashed
    ({"status": "not_validated", "agent_status": "token_limit"}, {"outcome": "token_limit"}, True),
    ({"status": "not_validated", "agent_status": "submitted"}, None, True),
])
def test_which_failures_are_the_agents(tmp_path, result, record, lesson):
    assert (run_dir(tmp_path, "r", result, record).infra_failure() is None) is lesson


def test_the_files_a_run_points_to_are_its_traceback_innermost_first_then_its_actions_prompts(tmp_path):
    log = run_dir(tmp_path, "r", {"status": "not_validated", "agent_status": "error", "message": TRACEBACK},
                  events=[{"type": "agent_step", "n": 1, "action": "bash+repeat", "detail": ""},
                          {"type": "agent_exit", "exit_code": 1, "output_tail": TRACEBACK}])
    assert log.agent_files(["main.py", "agent.py", "prompts/repeat.txt", "prompts/next.txt"]) == [
        "agent.py", "main.py", "prompts/repeat.txt"]
    text = diagnosis.shown_files(SEED_DIR, ["agent.py"], ["config.json"], chars=3000)
    assert text.startswith("--- agent.py (the run points here) ---") and "characters left out" in text
    assert len(text) < 3200


# -- the host's findings (symptoms.py): what a small diagnosis model cannot infer ---------------
SLOW = "out of time while waiting for the model (TimeoutError: timed out)"


def _request(chars: int) -> dict:
    return {"type": "llm_request", "messages": [{"role": "system", "content": "s" * 100},
                                                {"role": "user", "content": "u" * (chars - 100)}]}


def test_the_host_reads_its_findings_off_the_run_each_naming_the_files_a_change_would_go_to(tmp_path):
    events = [_request(3000), {"type": "llm_response", "text": "EDIT PART OF A FILE with a SEARCH/REPLACE block"},
              {"type": "agent_step", "n": 1, "action": "format_error"},
              {"type": "agent_reproduce", "status": "not_reproduced", "detail": "pytest stopped while collecting"},
              _request(11209), {"type": "agent_step", "n": 2, "action": "edit"},
              {"type": "agent_localize", "status": "fallback", "detail": "the reply holds no working edit"},
              {"type": "agent_step", "n": 3, "action": "format_error+repeat"},
              {"type": "agent_exit", "status": "time_limit", "message": SLOW}]
    log = run_dir(tmp_path, "r", {"status": "not_validated", "agent_status": "time_limit"}, events=events)
    found = symptoms.symptoms(log)
    assert [s.name for s in found] == ["slow_prompts", "format_errors", "reproduction_failed", "edit_not_made"]
    assert "after 2 model calls" in found[0].fact and "11,209 characters" in found[0].fact
    assert found[0].files[0] == "config.json"
    assert found[1].fact.startswith("2 of the run's 3 steps") and "SEARCH/REPLACE" in found[1].fact
    assert "pytest stopped while collecting" in found[2].fact
    # the file is one the child may change, or there is no focus
    assert symptoms.pick(found, [], random.Random(0)) is None
    for seed in range(30):
        symptom, focus = symptoms.pick(found, ["prompts/reproduce.txt", "agent.py"], random.Random(seed))
        assert (symptom.name, focus) == ("reproduction_failed", "prompts/reproduce.txt")
    picked = {symptoms.pick(found, list(SEED_FILES), random.Random(seed)) for seed in range(60)}
    assert {s.name for s, _ in picked} == {s.name for s in found}  # each finding is tried, not only the first
    assert {f for s, f in picked if s.name == "slow_prompts"} > {"config.json"}  # and more than one file


def test_a_hostile_trajectory_gives_bounded_findings_and_never_a_file_out_of_scope(tmp_path):
    """The trajectory is written by the agent in the sandbox: junk in it is no crash, its text is
    cut, and the findings' files are the host's own list, never a path the run names."""
    events = [{"type": "llm_request", "messages": ["not a dict", {"content": ["a", "list"]}, {"content": None}]},
              {"type": "llm_request"}, {"type": 5}, {"type": "agent_step", "action": None},
              {"type": "agent_step", "action": "format_error", "detail": "../../etc/passwd"},
              {"type": "llm_response", "text": "x" * 1_000_000},
              {"type": "agent_reproduce", "status": "not_reproduced", "detail": "y" * 1_000_000},
              {"type": "agent_localize", "status": "fallback", "detail": {"nested": "dict"}},
              {"type": "agent_exit", "status": "time_limit", "message": SLOW + " /agent/../../host"}]
    log = run_dir(tmp_path, "r", {"status": "not_validated", "agent_status": "time_limit"}, events=events)
    found = symptoms.symptoms(log)
    assert {s.name for s in found} == {"slow_prompts", "format_errors", "reproduction_failed", "edit_not_made"}
    assert all(len(s.fact) < 1200 for s in found)
    allowed = {f for s in found for f in s.files}
    assert allowed <= set(SEED_FILES)
    for seed in range(20):
        assert symptoms.pick(found, ["../../etc/passwd", "config.json"], random.Random(seed))[1] == "config.json"


def test_with_a_finding_the_diagnosis_is_asked_for_one_change_to_one_file_and_the_child_told_only_it(sim, runs):
    """The measured failure of a 1.5B diagnosis: asked for "a change to the agent", shown the task, its
    patch and steps, it fixed the task. With a finding, the prompt holds the finding and the file,
    whole and alone, and nothing of the task's code; the self-modification names that file first
    and no list of every file in scope."""
    agent_failed, _ = runs
    in_scope = ["config.json", "prompts/function_fix.txt"]
    target = diagnosis.pick_target([agent_failed], random.Random(1), list(SEED_FILES), ["prompts/function_fix.txt"])
    found = symptoms.symptoms(RunLog.read(agent_failed.log_path))
    assert {"wrong_fix", "edit_not_made"} <= {s.name for s in found}  # a wrong patch; a reply with no edit
    assert target.focus == "prompts/function_fix.txt" and target.fact in {s.fact for s in found}
    task = next(t for t in load_tasks(sim["tasks"]) if t.instance_id == "calc_py-clamp")
    out = sim["tmp"] / "diag-focus"
    note = "You may change only config.json, prompts/function_fix.txt."
    # the full view (DGM's, the default): the whole failed run, and the finding and its file first
    full_out = sim["tmp"] / "diag-full"
    diagnosis.diagnose(target, task, settings_for(sim["diagnosis"]), full_out, None, agent_dir=SEED_DIR,
                       in_scope=in_scope, scope_note=note)
    full = sent_prompt(full_out)
    assert f"What the host measured in this run: {target.fact}" in full and "assert 15 == 10" in full
    assert full.index("--- prompts/function_fix.txt") < full.index("--- config.json")
    assert "ONE change to the agent's file prompts/function_fix.txt" in full
    # the focused view: the finding and the file only
    problem, _ = diagnosis.diagnose(target, task, settings_for(sim["diagnosis"]), out, None, agent_dir=SEED_DIR,
                                    in_scope=in_scope, scope_note=note, view="focused")
    prompt = sent_prompt(out)
    assert target.fact in prompt and (SEED_DIR / "prompts/function_fix.txt").read_text().strip() in prompt
    assert "--- config.json ---" not in prompt  # the file alone
    # nothing of the task's code: not its text, its patch, its steps or its test output
    for task_code in ("calc.clamp(15, 0, 10)", "count = len(values)", "[step 1:", "assert 15 == 10"):
        assert task_code not in prompt, task_code
    assert prompt.rstrip().endswith("write only about the agent's file.")
    system = next(json.loads(line) for line in (out / "diagnosis.jsonl").read_text().splitlines()
                  if json.loads(line).get("type") == "llm_request")["messages"][0]["content"]
    assert system == diagnosis.FOCUSED_SYSTEM
    told = diagnosis.modify_problem(target, problem, note)
    assert told.startswith("Change the agent's file prompts/function_fix.txt.") and DIAGNOSIS in told
    assert "config.json" not in told and "Change only prompts/function_fix.txt" in told
    # without a file in scope for any finding: the diagnosis as before, with the scope note
    plain = diagnosis.pick_target([agent_failed], random.Random(1), list(SEED_FILES), ["agent.py"])
    assert plain.focus is None
    assert diagnosis.modify_problem(plain, "P", "NOTE") == "P\n\nNOTE"
