"""Environments on the docker backend: a task that names Python 3.9 (the image has 3.11) is graded
with `selfcoder eval --sandbox docker`, the venv and the interpreter copy mounted into the
container; the test inside checks the version it runs on, so a wrong interpreter fails it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from selfcoder.eval.environments import Environment, EnvSpec, EnvironmentProblem, find_interpreter
from selfcoder.sandbox import SandboxSpec, open_sandbox
from selfcoder.sandbox.docker_backend import docker_available

REASON = docker_available()
pytestmark = [pytest.mark.docker, pytest.mark.skipif(REASON is not None, reason=f"docker unavailable: {REASON}")]

# test 2: the image's /usr, not the host's (which the local sandbox shows, bubblewrap included)
RUN_TESTS = """#!/bin/sh
python3 -c 'import sys; print("ok 1 - runs on python 3.9" if sys.version_info[:2] == (3, 9) else "not ok 1 - runs on python 3.9")'
if [ -e /usr/bin/bwrap ]; then echo "not ok 2 - runs in the container"; else echo "ok 2 - runs in the container"; fi
"""
PATCH = "diff --git a/notes.txt b/notes.txt\n--- a/notes.txt\n+++ b/notes.txt\n@@ -1 +1 @@\n-old\n+new\n"


@pytest.fixture(scope="module")
def env_cache():
    """One environment cache for the module: the 3.9 venv is built once, not per test."""
    root = Path(tempfile.mkdtemp(prefix="selfcoder-test-docker-envs-"))
    root.chmod(0o755)
    yield root / "envs"
    shutil.rmtree(root, ignore_errors=True)


def task_file(tmp_path: Path, python: str) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "notes.txt").write_text("old\n")
    (repo / "run_tests.sh").write_text(RUN_TESTS)
    (repo / "run_tests.sh").chmod(0o755)
    task = {"instance_id": f"needs-{python}", "problem_statement": "p", "repo_path": str(repo),
            "test_cmd": "./run_tests.sh", "patch": PATCH, "environment": {"python": python},
            "FAIL_TO_PASS": ["runs on python 3.9", "runs in the container"], "PASS_TO_PASS": []}
    path = tmp_path / "tasks.jsonl"
    path.write_text(json.dumps(task) + "\n")
    return path


def selfcoder_eval(tasks: Path, out: Path, env_cache: Path, sandbox_root: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, SELFCODER_SANDBOX_ROOT=str(sandbox_root), SELFCODER_CONFIG=str(out.parent / "none.toml"),
               SELFCODER_ENV_CACHE=str(env_cache))
    return subprocess.run([sys.executable, "-m", "selfcoder", "eval", str(tasks), "--predictions", "gold",
                           "--sandbox", "docker", "--out", str(out)], capture_output=True, text=True, env=env,
                          timeout=600)


def test_a_task_naming_python_3_9_is_graded_on_3_9_in_docker(tmp_path, env_cache, sandbox_root):
    try:
        find_interpreter(EnvSpec(python="3.9"))
    except EnvironmentProblem as e:
        pytest.skip(f"no host Python 3.9 to build from: {e}")
    out = tmp_path / "out"
    res = selfcoder_eval(task_file(tmp_path, "3.9"), out, env_cache, sandbox_root)
    assert res.returncode == 0, res.stderr[-2000:]
    report = json.loads((out / "report.json").read_text())
    assert report["resolved_ids"] == ["needs-3.9"], report["instances"]
    built = [p for p in env_cache.iterdir() if (p / ".complete").exists()]
    assert len(built) == 1


def test_a_missing_version_is_an_error_naming_it_in_docker(tmp_path, env_cache, sandbox_root):
    out = tmp_path / "out"
    res = selfcoder_eval(task_file(tmp_path, "3.1"), out, env_cache, sandbox_root)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["error_ids"] == ["needs-3.1"]
    assert "Python 3.1 is not installed" in report["instances"]["needs-3.1"]["message"]


def test_an_interpreter_the_image_lacks_is_named_not_a_silent_fallback(tmp_path, sandbox_root):
    """A venv whose Python the image does not have (a host /usr interpreter): the wrapped command
    says so and exits 126 instead of running the tests on another Python."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to("/usr/bin/python3.8")  # not in the bookworm image
    env = Environment(venv=venv, check="Python 3.8 (/usr/bin/python3.8)")
    (tmp_path / "ws").mkdir()
    with open_sandbox(SandboxSpec(source=tmp_path / "ws", mounts=[]), "docker") as sb:
        res = sb.run(env.wrap("echo tests-ran"), timeout=60)
    assert res.exit_code == 126 and "tests-ran" not in res.output
    assert "Python 3.8 (/usr/bin/python3.8) does not run in this sandbox's image" in res.output
