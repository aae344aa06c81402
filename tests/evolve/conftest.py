"""Fixtures for the evolve simulation: two calc tasks (one the scripted agent resolves, one it
cannot), scripted models for the agent, the diagnosis and the self-modification, a private
sandbox root. Real sandboxes, real git, real grading; only the model is scripted."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
import yaml

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from e2e_replies import CALC_FIX, search_replace  # noqa: E402

# a self-modification that applies to any generation: one more line in config.json
SELF_EDIT = search_replace("config.json", '  "retries": 2,', '  "retries": 2,\n  "evolved_note": "tried harder",') + "\nSUBMIT\n"
# a self-modification that breaks the child: a file that does not compile
BROKEN_EDIT = search_replace("config.json", '  "retries": 2,', '  "retries": 2,') + (
    "\nbroken.py\n```python\ndef broken(:\n    pass\n```\n\nSUBMIT\n")
DIAGNOSIS = "The agent stops too early: make it retry a failed edit once before giving up."
ADMISSION = "python3 -c 'import main'"


@pytest.fixture(autouse=True)
def _local_sandbox_works(local_sandbox_works):
    """bubblewrap must work here (tests/conftest.py)."""


@pytest.fixture
def sim(tmp_path, monkeypatch, sandbox_root):
    """A task set (calc-mean: resolvable; calc-clamp: not) and the scripted models."""
    monkeypatch.setenv("SELFCODER_CONFIG", str(tmp_path / "no-user-config.toml"))
    clamp_repo = tmp_path / "calc_clamp"
    shutil.copytree(FIXTURES / "repos" / "calc_py", clamp_repo)
    ops = clamp_repo / "calc" / "ops.py"
    ops.write_text(ops.read_text().replace("return max(low, min(value, high))", "return max(low, value)"))
    mean = json.loads((FIXTURES / "tasks.jsonl").read_text().splitlines()[0])
    mean_repo = tmp_path / "calc_py"  # beside the task file: a task set's repositories lie in its directory
    shutil.copytree(FIXTURES / "repos" / "calc_py", mean_repo)
    mean["repo_path"] = str(mean_repo)
    clamp = {**mean, "instance_id": "calc_py-clamp", "patch": None, "repo_path": str(clamp_repo),
             "problem_statement": "calc.clamp(15, 0, 10) returns 15: values above the range are not limited.",
             "FAIL_TO_PASS": ["tests/test_ops.py::TestClamp::test_outside"],
             "PASS_TO_PASS": ["tests/test_ops.py::test_add"]}
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(json.dumps(mean) + "\n" + json.dumps(clamp) + "\n")

    def script(name: str, *replies: str) -> str:
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump({"replies": list(replies),
                                        "pricing": {"input_per_token": 1e-6, "output_per_token": 2e-6}}))
        return f"scripted/{path}"

    # the agent fixes mean (and submits at once: its tests pass); on clamp its fix is wrong, and it
    # submits (refused once, as an early submit is): a failure of the agent, not of the model
    return {"tasks": tasks, "agent": script("agent", CALC_FIX, "SUBMIT", "SUBMIT", "SUBMIT"), "diagnosis": script("diagnosis", DIAGNOSIS),
            "modify": script("modify", SELF_EDIT, "SUBMIT"), "broken": script("broken", BROKEN_EDIT, "SUBMIT"),
            "tmp": tmp_path}


def settings_for(model: str):
    from selfcoder.core.config import load_settings

    s = load_settings(None).settings
    s.model.name = model
    s.sandbox.backend = "local"
    s.sandbox.timeout_s = 120
    s.agent.max_steps = 4
    s.agent.time_limit_s = 120
    return s
