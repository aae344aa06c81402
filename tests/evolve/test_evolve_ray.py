"""`selfcoder evolve --executor ray` on the simulation (issue 10, item 4): the sandboxed work runs
as tasks on a local Ray cluster the command starts itself, the archive (written by the driver
only) stays whole, and `--max-usd` still bounds the whole search's spend through the shared
budget that the workers' gateways draw on."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest
from conftest import ADMISSION
from test_evolve_cli import check_whole

pytest.importorskip("ray", reason="the dev extra installs ray")  # scripts/test installs .[dev]


def test_evolve_on_ray_completes_within_the_budget_and_keeps_the_archive_whole(sim, sandbox_root):
    archive = sim["tmp"] / "arch"
    argv = [sys.executable, "-m", "selfcoder", "evolve", "--tasks", str(sim["tasks"]), "--archive", str(archive),
            "--policy", "hgm", "--workers", "2", "--max-evals", "50", "--max-usd", "0.01",
            "--model", sim["agent"], "--diagnosis-model", sim["diagnosis"], "--modify-model", sim["modify"],
            "--admission-tests", ADMISSION, "--executor", "ray"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=240, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "starting a local Ray cluster" in proc.stderr and "Traceback" not in proc.stderr
    check_whole(archive)
    conn = sqlite3.connect(archive / "archive.db")
    evaluations = conn.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0]
    nodes = conn.execute("SELECT COUNT(*) FROM nodes").fetchone()[0]
    assert 0 < evaluations < 50 and nodes >= 2, proc.stderr[-2000:]
    assert "stopped: " in proc.stderr and "budget" in proc.stderr  # the shared budget stopped it
    spent = conn.execute("SELECT COALESCE(SUM(cost_usd), 0) FROM evaluations").fetchone()[0] + conn.execute(
        "SELECT COALESCE(SUM(cost_usd), 0) FROM nodes").fetchone()[0]
    assert 0 < spent <= 0.01
    assert conn.execute("SELECT COUNT(*) FROM evaluations WHERE node='root' AND task='calc_py-mean' AND resolved=1"
                        ).fetchone()[0] == 1  # graded on a worker, as locally
    assert not list(sandbox_root.iterdir()), "remote sandboxes were left behind"
