"""bench/self_improvement.py wired end to end on a tiny budget: evolve on a search set, `archive
compare best seed` on a held-out set, the result printed and written; --resume goes on without
running anything again. Real sandboxes, git and grading; only the model is scripted."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ADMISSION

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "self_improvement.py"


def test_the_experiment_runs_compares_the_best_node_and_resumes(sim):
    held_out = sim["tmp"] / "held_out.jsonl"
    rows = [json.loads(line) for line in sim["tasks"].read_text().splitlines()]
    held_out.write_text("".join(json.dumps(dict(r, instance_id="held-" + r["instance_id"])) + "\n" for r in rows))
    out = sim["tmp"] / "experiment"
    # 3 evaluations: the root on both tasks, then one child whose smoke run (calc-mean, solved) makes it best
    argv = [sys.executable, str(SCRIPT), "--out", str(out), "--search-tasks", str(sim["tasks"]),
            "--held-out-tasks", str(held_out), "--model", sim["agent"], "--diagnosis-model", sim["diagnosis"],
            "--modify-model", sim["modify"], "--max-evals", "3", "--max-nodes", "2", "--admission-tests", ADMISSION,
            "--calibrate", "0"]
    first = subprocess.run(argv, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert first.returncode == 0, first.stdout + first.stderr
    text = first.stdout
    assert "children made: 1 (1 valid, 0 invalid, 0 failed); nodes evaluated: 2, evaluations: 3" in text, text
    assert "best node on the search set: n1" in text
    assert "held out, n1: 1/2 (0.50, 95 % Wilson [0.09, 0.91])" in text
    assert "held out, seed: 1/2" in text and "exact McNemar p = 1.000" in text and "too few tasks" in text
    assert '"evolved_note": "tried harder"' in text  # the best node's diff
    result = json.loads((out / "result.json").read_text())
    assert result["compare"]["paired"]["tasks"] == 2 and result["scope"] == "policies"
    assert (out / "result.md").read_text() == text
    records = sorted((out / "archive" / "compare").rglob("instances/*.json"))
    assert len(records) == 4
    stamps = {p: p.read_text() for p in records}
    again = subprocess.run([*argv, "--resume"], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert again.returncode == 0 and again.stdout == text, again.stdout + again.stderr
    assert {p: p.read_text() for p in records} == stamps  # nothing ran again
    fresh = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert fresh.returncode != 0 and "add --resume" in fresh.stderr and "Traceback" not in fresh.stderr


def test_calibration_keeps_the_search_tasks_the_root_solves_in_the_band_and_resumes(sim):
    """Two real `selfcoder eval` runs of the root on both search tasks (calc-mean solved, calc-clamp
    not); the band keeps what it asks for, the chosen set runs from OUT, a rerun runs nothing again,
    and a band nothing falls in is a clear error."""
    out = sim["tmp"] / "calibrated"
    argv = [sys.executable, str(SCRIPT), "--search-tasks", str(sim["tasks"]), "--held-out-tasks", str(sim["tasks"]),
            "--model", sim["agent"], "--calibrate", "2", "--calibrate-only", "--max-steps", "4"]
    first = subprocess.run([*argv, "--out", str(out), "--band", "0.5", "1"], capture_output=True, text=True,
                           timeout=600, cwd=ROOT)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "2 runs each (temperatures 0, 0.7)" in first.stdout and "0.5-1 of its runs: 1 tasks" in first.stdout
    assert "* calc_py-mean: 2/2" in first.stdout and "  calc_py-clamp: 0/2" in first.stdout
    table = json.loads((out / "calibration.json").read_text())
    assert table["chosen"] == ["calc_py-mean"] and table["tasks"]["calc_py-clamp"]["rate"] == 0
    chosen = [json.loads(line) for line in (out / "search-calibrated.jsonl").read_text().splitlines()]
    assert [r["instance_id"] for r in chosen] == ["calc_py-mean"] and Path(chosen[0]["repo_path"]).is_absolute()
    records = sorted((out / "calibration").rglob("instances/*.json"))
    assert len(records) == 4  # two runs x two tasks, each graded
    stamps = {p: p.read_text() for p in records}
    again = subprocess.run([*argv, "--out", str(out), "--band", "0.5", "1"], capture_output=True, text=True, timeout=60,
                           cwd=ROOT)
    assert again.returncode != 0 and "add --resume" in again.stderr and "Traceback" not in again.stderr
    again = subprocess.run([*argv, "--out", str(out), "--band", "0.5", "1", "--resume"], capture_output=True,
                           text=True, timeout=600, cwd=ROOT)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "* calc_py-mean: 2/2" in again.stdout and "calibration run" not in again.stdout  # nothing ran again
    assert {p: p.read_text() for p in records} == stamps
    # the default band: a task solved always or never tells no child apart; the runs are reused
    empty = sim["tmp"] / "none"
    shutil.copytree(out / "calibration", empty / "calibration")
    none = subprocess.run([*argv, "--out", str(empty), "--resume"], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert none.returncode != 0 and "no search task was solved by the root in a fraction within 0.2-0.8" in none.stderr
    assert "--calibrate 0" in none.stderr and "Traceback" not in none.stderr
    assert {p: p.read_text() for p in records} == stamps
    bad = subprocess.run([*argv, "--out", str(empty), "--band", "0.9", "0.1"], capture_output=True, text=True, timeout=60,
                         cwd=ROOT)
    assert bad.returncode == 2 and "0 <= LOW <= HIGH <= 1" in bad.stderr
