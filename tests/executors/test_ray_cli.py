"""`selfcoder eval --executor ray` as a user runs it, stopped by SIGTERM (the Ctrl-C path) while
its instances run on the local Ray cluster the command started: it exits 143 within seconds,
the remote runs are cancelled through their tokens (their sandboxes removed, not killed mid-way),
nothing unfinished is recorded, and the rerun grades both."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
pytest.importorskip("ray", reason="the dev extra installs ray")  # scripts/test installs .[dev]


@pytest.fixture(autouse=True)
def _local_sandbox_works(local_sandbox_works):
    """bubblewrap must work here (tests/conftest.py)."""


def test_sigterm_cancels_the_remote_runs_and_removes_their_sandboxes(tmp_path, sandbox_root):
    lines = [json.loads(line) for line in (FIXTURES / "tasks.jsonl").read_text().splitlines()]
    tasks = tmp_path / "tasks.jsonl"

    def write_tasks(prefix: str) -> None:
        tasks.write_text("".join(json.dumps({**t, "repo_path": str(FIXTURES / t["repo_path"]),
                                             "test_cmd": prefix + t["test_cmd"]}) + "\n" for t in lines))

    write_tasks("sleep 120; ")  # slow test runs: still running when the signal comes
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "selfcoder", "eval", str(tasks), "--predictions", "gold", "--out", str(out),
            "--workers", "2", "--executor", "ray"]
    env = dict(os.environ, SELFCODER_CONFIG=str(tmp_path / "none.toml"))
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 90
    while len(list(sandbox_root.iterdir())) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)  # both instances are in their test sandboxes, on Ray workers
    assert len(list(sandbox_root.iterdir())) == 2, proc.communicate()
    time.sleep(1)
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert time.monotonic() - sent < 9, "stopped by the force-kill, not by the runs' own cancel"
    assert "Traceback" not in err and "SIGTERM received" not in err  # Ray's handler did not take over
    assert not list(sandbox_root.iterdir()), "a cancelled remote run left its sandbox"
    assert json.loads((out / "report.json").read_text())["completed_ids"] == []

    write_tasks("")
    again = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=180)
    assert again.returncode == 0, again.stderr
    assert json.loads((out / "report.json").read_text())["resolved_ids"] == ["calc_py-mean", "wordcount_sh-empty"]
