"""Check the bug-fix tasks that bench/local_solve.py runs: each must be a real, fixable bug.

For every task directory (`<name>/repo/` = the repository the agent gets, `<name>/PROBLEM.md` =
the one-line issue, `<name>/fix.diff` = the known fix, paths relative to `repo/`), in a
temporary copy: the tests must FAIL as given, `fix.diff` must apply with `git apply`, and the
tests must PASS afterwards. Prints one line per task and exits 1 if any task is broken.
These are our own files, so the tests run on the host with this Python's pytest (plugins not
auto-loaded: the tasks need plain pytest, and the venv's plugins cost a second per run).
`--root` checks another directory of tasks in the same format (bench/small/).

    .venv/bin/python bench/tasks/check_tasks.py [--root DIR] [NAME...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

TASKS_DIR = Path(__file__).resolve().parent


def task_dirs(names: list[str] | None = None, root: Path = TASKS_DIR) -> list[Path]:
    """Task directories under `root` (those holding repo/ and PROBLEM.md), sorted by name; `names` filters."""
    found = sorted(d for d in Path(root).resolve().iterdir() if (d / "repo").is_dir() and (d / "PROBLEM.md").is_file())
    if names:
        unknown = set(names) - {d.name for d in found}
        if unknown:
            raise SystemExit(f"unknown task(s): {', '.join(sorted(unknown))}")
        found = [d for d in found if d.name in names]
    return found


PYTEST_ENV = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


def pytest(workdir: Path) -> tuple[int, str]:
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=workdir,
                         capture_output=True, text=True, timeout=120, env=PYTEST_ENV)
    return res.returncode, res.stdout + res.stderr


def check(task: Path) -> str | None:
    """None when the task is good, else what is wrong with it."""
    if not (task / "fix.diff").is_file():
        return "no fix.diff"
    if not (task / "PROBLEM.md").read_text().strip():
        return "empty PROBLEM.md"
    with tempfile.TemporaryDirectory(prefix=f"task-{task.name}-") as tmp:
        work = Path(tmp) / "repo"
        shutil.copytree(task / "repo", work)
        code, out = pytest(work)
        if code != 1 or " failed" not in out:
            return f"tests do not fail as given (pytest exit {code})"
        applied = subprocess.run(["git", "apply", str(task / "fix.diff")], cwd=work, capture_output=True, text=True)
        if applied.returncode != 0:
            return f"fix.diff does not apply: {applied.stderr.strip()}"
        code, out = pytest(work)
        if code != 0:
            return f"tests fail after fix.diff (pytest exit {code}): {out.strip().splitlines()[-1]}"
    return None


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="Check that each task fails as given and passes with fix.diff.")
    ap.add_argument("--root", type=Path, default=TASKS_DIR, help="directory of tasks (default: bench/tasks)")
    ap.add_argument("names", nargs="*", help="tasks to check (default: all)")
    args = ap.parse_args(argv)
    bad = 0
    for task in task_dirs(args.names or None, args.root):
        problem = check(task)
        bad += problem is not None
        print(f"{task.name:<22} {'ok' if problem is None else 'BROKEN: ' + problem}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
