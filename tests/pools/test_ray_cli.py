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
from pathlib import Path

import pytest
from waiting import exited, unique_sleep, wait_until

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

    sleep = unique_sleep(120)
    write_tasks(f"{sleep}; ")  # slow test runs: still running when the signal comes
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "selfcoder", "eval", str(tasks), "--predictions", "gold", "--out", str(out),
            "--workers", "2", "--executor", "ray", "--repos-root", str(FIXTURES)]
    env = dict(os.environ, SELFCODER_CONFIG=str(tmp_path / "none.toml"))
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    running = lambda: int(subprocess.run(["pgrep", "-c", "-f", f"^{sleep}"], capture_output=True, text=True).stdout or 0)  # noqa: E731
    # both instances run their test command in their sandboxes, on Ray workers
    wait_until(lambda: running() >= 2, 180, "the two test commands never ran", gave_up=exited(proc))
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "Traceback" not in err and "SIGTERM received" not in err  # Ray's handler did not take over
    # the runs' own cancel removed their sandboxes (a force-kill at GRACE_S would leave them)
    assert not list(sandbox_root.iterdir()), "a cancelled remote run left its sandbox"
    assert json.loads((out / "report.json").read_text())["completed_ids"] == []

    write_tasks("")
    again = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=180)
    assert again.returncode == 0, again.stderr
    assert json.loads((out / "report.json").read_text())["resolved_ids"] == ["calc_py-mean", "wordcount_sh-empty"]
