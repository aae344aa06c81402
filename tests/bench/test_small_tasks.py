"""The small task set (bench/small) keeps the shape its measurements rely on: enough tasks to
tell changes apart, each complete, a split that is the documented rule's output and covers every
task once, implement-from-docstring tasks in both halves. Cheap checks on the files, plus the
real fail-before/pass-after check (bench/tasks/check_tasks.py) of a bug fix and an implement task;
`check_tasks.py --root bench/small` checks them all."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "bench" / "small"
sys.path.insert(0, str(ROOT / "bench" / "tasks"))
sys.path.insert(0, str(SMALL))

from check_tasks import check, task_dirs  # noqa: E402  (bench/tasks/check_tasks.py)
from split import is_implement, split  # noqa: E402  (bench/small/split.py)


def test_enough_complete_tasks():
    tasks = task_dirs(root=SMALL)
    assert len(tasks) >= 60
    for task in tasks:
        modules = [f for f in (task / "repo").glob("*.py") if not f.name.startswith("test_")]
        tests = list((task / "repo").glob("test_*.py"))
        assert modules and tests, task.name
        assert (task / "PROBLEM.md").read_text().strip(), task.name
        diff = (task / "fix.diff").read_text()
        assert diff.startswith("--- a/") and "\n+++ b/" in diff, task.name
        assert "test_" not in diff.splitlines()[0], f"{task.name}: fix.diff must not touch the tests"


def test_split_is_the_rule_and_covers_every_task_once():
    recorded = json.loads((SMALL / "split.json").read_text())
    assert recorded == split(), "split.json differs from bench/small/split.py's rule"
    search, held_out = recorded["search"], recorded["held_out"]
    names = [t.name for t in task_dirs(root=SMALL)]
    assert sorted(search + held_out) == names
    assert not set(search) & set(held_out)
    assert abs(len(search) - len(held_out)) <= 1


def test_implement_tasks_in_both_halves():
    recorded = json.loads((SMALL / "split.json").read_text())
    counts = {half: sum(is_implement(SMALL / n) for n in names) for half, names in recorded.items()}
    assert sum(counts.values()) >= 12
    assert abs(counts["search"] - counts["held_out"]) <= 1


def test_a_bug_fix_and_an_implement_task_fail_before_and_pass_after():
    assert check(SMALL / "money_format") is None
    assert not is_implement(SMALL / "money_format")
    assert check(SMALL / "merge_intervals") is None
    assert is_implement(SMALL / "merge_intervals")


def test_the_check_refuses_a_task_whose_tests_already_pass(tmp_path):
    task = tmp_path / "money_format"
    shutil.copytree(SMALL / "money_format", task)
    subprocess.run(["git", "apply", str(task / "fix.diff")], cwd=task / "repo", check=True)
    assert check(task) == "tests do not fail as given (pytest exit 0)"
