"""bench/self_improvement.py wired end to end on a tiny budget: evolve on a search set, `archive
compare best seed` on a held-out set, the result printed and written; --resume goes on without
running anything again. Real sandboxes, git and grading; only the model is scripted."""

from __future__ import annotations

import json
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
            "--modify-model", sim["modify"], "--max-evals", "3", "--max-nodes", "2", "--admission-tests", ADMISSION]
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
