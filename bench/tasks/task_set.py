"""Write bug-fix tasks of this directory as a task set (SWE-bench JSONL) for `selfcoder eval`,
`selfcoder evolve` and `selfcoder archive compare`.

Each task becomes one instance: `repo_path` = the task's `repo/` (absolute), the problem
statement from PROBLEM.md, `patch` = fix.diff, `test_cmd` = pytest, and FAIL_TO_PASS /
PASS_TO_PASS measured, not guessed: the tests are run (these are our own files, so on the host
with this Python's pytest, as check_tasks.py does) on a copy as given and on a copy with
fix.diff applied; the tests that fail before and pass after are FAIL_TO_PASS, those that pass
both times PASS_TO_PASS. Split the tasks into a search set and a held-out set by naming them:

    .venv/bin/python bench/tasks/task_set.py runs/search.jsonl median slugify paginate leap_year
    .venv/bin/python bench/tasks/task_set.py runs/heldout.jsonl chunked dedupe durations word_count
    .venv/bin/python bench/tasks/task_set.py runs/all.jsonl        # every task

`--root DIR` takes the tasks from another directory in the same format; with `--split search`
or `--split held_out` the names come from that directory's split.json (bench/small/README.md
says how it was made):

    .venv/bin/python bench/tasks/task_set.py --root bench/small --split search runs/small-search.jsonl
    .venv/bin/python bench/tasks/task_set.py --root bench/small --split held_out runs/small-held-out.jsonl

The repositories stay here, outside the task set's directory, where a task set's repositories
may only lie when the user names their root: pass `--repos-root bench/tasks` (or the `--root`
given here) to `selfcoder eval`, `selfcoder evolve` (again with `--resume`) and
`selfcoder archive compare`. Instance ids are `bugfix-<name>` for bench/tasks and
`<root's name>-<name>` (e.g. `small-<name>`) for another root, so two sets never share an id.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_tasks import PYTEST_ENV, TASKS_DIR, task_dirs  # noqa: E402

RESULT = re.compile(r"^(PASSED|FAILED|ERROR) (\S+)")


def outcomes(workdir: Path) -> dict[str, str]:
    """test id -> PASSED / FAILED / ERROR, from pytest's -rA summary."""
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider"], cwd=workdir,
                         capture_output=True, text=True, timeout=120, env=PYTEST_ENV)
    found = {}
    for line in res.stdout.splitlines():
        m = RESULT.match(line)
        if m:
            found[m.group(2)] = m.group(1)
    return found


def instance(task: Path, prefix: str = "bugfix") -> dict:
    with tempfile.TemporaryDirectory(prefix=f"task-{task.name}-") as tmp:
        work = Path(tmp) / "repo"
        shutil.copytree(task / "repo", work)
        before = outcomes(work)
        subprocess.run(["git", "apply", str(task / "fix.diff")], cwd=work, check=True, capture_output=True)
        after = outcomes(work)
    fail_to_pass = sorted(t for t, o in after.items() if o == "PASSED" and before.get(t) != "PASSED")
    pass_to_pass = sorted(t for t, o in after.items() if o == "PASSED" and before.get(t) == "PASSED")
    if not fail_to_pass:
        raise SystemExit(f"{task.name}: no test fails before fix.diff and passes after it")
    return {"instance_id": f"{prefix}-{task.name}", "repo": f"selfcoder-bench/{task.name}", "base_commit": None,
            "problem_statement": (task / "PROBLEM.md").read_text().strip(),
            "patch": (task / "fix.diff").read_text(), "test_patch": None,
            "FAIL_TO_PASS": fail_to_pass, "PASS_TO_PASS": pass_to_pass,
            "repo_path": str((task / "repo").resolve()), "test_cmd": "python3 -m pytest -q"}


def split_names(root: Path, half: str) -> list[str]:
    """The task names of one half of `root`/split.json."""
    split = json.loads((root / "split.json").read_text())
    if half not in split:
        raise SystemExit(f"{root / 'split.json'} has no half {half!r} (it has {', '.join(split)})")
    return split[half]


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="Write tasks as a SWE-bench JSONL task set.", epilog=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", type=Path, default=TASKS_DIR, help="directory of tasks (default: bench/tasks)")
    ap.add_argument("--split", help="take the names from ROOT/split.json's half of this name (search, held_out)")
    ap.add_argument("out", type=Path, help="the JSONL file to write")
    ap.add_argument("names", nargs="*", help="tasks to include (default: all, or the --split half)")
    args = ap.parse_args(argv)
    root = args.root.resolve()
    if args.split and args.names:
        raise SystemExit("name tasks or give --split, not both")
    names = split_names(root, args.split) if args.split else args.names
    prefix = "bugfix" if root == TASKS_DIR else root.name
    rows = [instance(t, prefix) for t in task_dirs(names or None, root)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    print(f"wrote {len(rows)} tasks to {args.out}: {', '.join(r['instance_id'] for r in rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
