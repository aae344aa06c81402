"""`selfcoder eval` as a user runs it: gold graded, bad input named on one line, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def selfcoder(*args: str, env_root: Path) -> subprocess.CompletedProcess:
    import os

    env = dict(os.environ, SELFCODER_SANDBOX_ROOT=str(env_root), SELFCODER_CONFIG=str(env_root / "none.toml"))
    return subprocess.run([sys.executable, "-m", "selfcoder", *args], capture_output=True, text=True, env=env, timeout=300)


def test_eval_grades_gold_predictions_and_reports_bad_lines(tmp_path, sandbox_root):
    tasks = tmp_path / "tasks.jsonl"
    lines = (FIXTURES / "tasks.jsonl").read_text().splitlines()
    fixed = [json.dumps({**json.loads(line), "repo_path": str(FIXTURES / json.loads(line)["repo_path"])}) for line in lines]
    tasks.write_text("\n".join([fixed[0], "{broken", fixed[1]]) + "\n")
    out = tmp_path / "out"
    # the repositories are not beside the task file: refused, each named on its line, unless the user names their root
    res = selfcoder("eval", str(tasks), "--predictions", "gold", "--out", str(tmp_path / "refused"), env_root=sandbox_root)
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    refused = json.loads((tmp_path / "refused" / "report.json").read_text())
    assert refused["submitted_instances"] == 0 and len(refused["problems"]) == 3, refused["problems"]
    assert refused["problems"][0].startswith(f"{tasks}:1: instance calc_py-mean: repo_path "
                                             f"{FIXTURES / 'repos' / 'calc_py'} is outside")
    res = selfcoder("eval", str(tasks), "--predictions", "gold", "--out", str(out), "--workers", "2",
                    "--repos-root", str(FIXTURES), env_root=sandbox_root)
    assert res.returncode == 0, res.stderr
    assert f"{tasks}:2" in res.stderr and "Traceback" not in res.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["resolved_ids"] == ["calc_py-mean", "wordcount_sh-empty"]
    assert "2 of 2 resolved" in res.stdout

    res = selfcoder("eval", str(tasks), "--predictions", "gold", "--out", str(out), "--instances", "nope",
                    "--repos-root", str(FIXTURES), env_root=sandbox_root)
    assert res.returncode != 0 and "unknown instance id(s): nope" in res.stderr and "Traceback" not in res.stderr
