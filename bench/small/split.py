"""Split the small tasks into a search half and a held-out half, by a rule fixed before any
measurement, so nobody can tune the split to the results.

The rule: tasks are either "implement" tasks (their repo/ holds `raise NotImplementedError`: a
function to write from its docstring and tests) or bug fixes. Within each kind, names are sorted
by sha256(name + SALT); the implement tasks come first, then the bug fixes, and the combined list
is dealt alternately to search, held_out, search, ... So each half gets about half of each kind,
and the halves differ in size by at most one. A new task changes the split: add tasks only with
a new SALT (a new split), never by re-dealing the old one after results are known.

    .venv/bin/python bench/small/split.py            # rewrite split.json from the rule
    .venv/bin/python bench/small/split.py --check    # exit 1 if split.json is not the rule's output
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SALT = "selfcoder-split-1"
HALVES = ("search", "held_out")


def task_names(root: Path = HERE) -> list[str]:
    return sorted(d.name for d in root.iterdir() if (d / "repo").is_dir() and (d / "PROBLEM.md").is_file())


def is_implement(task: Path) -> bool:
    """An implement-from-docstring task: some module of its repo raises NotImplementedError."""
    return any("raise NotImplementedError" in f.read_text() for f in (task / "repo").glob("*.py")
               if not f.name.startswith("test_"))


def split(root: Path = HERE) -> dict[str, list[str]]:
    def key(name: str) -> str:
        return hashlib.sha256((name + SALT).encode()).hexdigest()

    names = task_names(root)
    implement = sorted((n for n in names if is_implement(root / n)), key=key)
    bugfix = sorted((n for n in names if n not in implement), key=key)
    halves: dict[str, list[str]] = {half: [] for half in HALVES}
    for i, name in enumerate(implement + bugfix):
        halves[HALVES[i % 2]].append(name)
    return {half: sorted(members) for half, members in halves.items()}


def main(argv: list[str]) -> int:
    expected = split()
    path = HERE / "split.json"
    if "--check" in argv:
        actual = json.loads(path.read_text()) if path.exists() else None
        if actual != expected:
            print(f"{path} is not what the rule gives; run {Path(__file__).name} to rewrite it")
            return 1
        print(f"{path}: ok")
        return 0
    path.write_text(json.dumps(expected, indent=1) + "\n")
    print(f"wrote {path}: " + ", ".join(f"{half} {len(names)}" for half, names in expected.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
