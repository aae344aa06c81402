"""Environments: a virtualenv of the Python version a task names, from a host interpreter that a
sandbox uid could not reach where it lives (pyenv under /root, mode 700), cached by its spec."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from selfcoder.eval.environments import EnvSpec, EnvironmentProblem, find_interpreter
from selfcoder.eval.interpreters import candidates
from selfcoder.eval.evaluate import Evaluation
from selfcoder.eval.predictions import prediction
from selfcoder.core.task import Task

RUN_TESTS = """#!/bin/sh
python3 -c 'import sys; print("ok 1 - runs on python 3.9" if sys.version_info[:2] == (3, 9) else "not ok 1 - runs on python 3.9")'
"""
PATCH = "diff --git a/notes.txt b/notes.txt\n--- a/notes.txt\n+++ b/notes.txt\n@@ -1 +1 @@\n-old\n+new\n"


def python39() -> str:
    try:
        return find_interpreter(EnvSpec(python="3.9"))[0]
    except EnvironmentProblem as e:
        pytest.skip(f"no host Python 3.9 to build from: {e}")


def version_task(tmp_path: Path, environment) -> Task:
    repo = tmp_path / "repo"
    repo.mkdir(exist_ok=True)
    (repo / "notes.txt").write_text("old\n")
    (repo / "run_tests.sh").write_text(RUN_TESTS)
    (repo / "run_tests.sh").chmod(0o755)
    data = {"instance_id": "needs-3.9", "problem_statement": "p", "repo_path": str(repo), "test_cmd": "./run_tests.sh",
            "FAIL_TO_PASS": ["runs on python 3.9"], "PASS_TO_PASS": []}
    if environment:
        data["environment"] = environment
    return Task.model_validate(data)


def test_the_named_python_runs_the_tests_and_its_env_is_built_once(tmp_path, settings, env_cache):
    python39()
    with_env = version_task(tmp_path, {"python": "3.9"})
    preds = {"needs-3.9": prediction("needs-3.9", "m", PATCH)}
    report = Evaluation([with_env], tmp_path / "a", settings=settings(), predictions=preds).run()
    assert report["resolved_ids"] == ["needs-3.9"], report["instances"]
    built = [p for p in env_cache.iterdir() if (p / ".complete").exists()]
    assert len(built) == 1 and json.loads((built[0] / "selfcoder-env.json").read_text())["version"][:2] == [3, 9]
    stamp = (built[0] / ".complete").stat().st_mtime_ns
    Evaluation([with_env], tmp_path / "b", settings=settings(), predictions=preds).run()
    assert (built[0] / ".complete").stat().st_mtime_ns == stamp  # cached, not rebuilt

    without = version_task(tmp_path, None)  # the sandbox's own python3 is not 3.9: the check can fail
    report = Evaluation([without], tmp_path / "c", settings=settings(), predictions=preds).run()
    assert report["unresolved_ids"] == ["needs-3.9"]


def test_a_missing_version_is_an_error_naming_it(tmp_path, settings, env_cache):
    task = version_task(tmp_path, {"python": "3.1"})
    report = Evaluation([task], tmp_path / "out", settings=settings(),
                        predictions={"needs-3.9": prediction("needs-3.9", "m", PATCH)}).run()
    assert report["error_ids"] == ["needs-3.9"]
    assert "Python 3.1 is not installed" in report["instances"]["needs-3.9"]["message"]


def test_pyenv_candidates_prefer_the_newest_patch_release():
    found = candidates("3.9")
    assert found[-2:] == ["/usr/bin/python3.9", "/usr/local/bin/python3.9"]
