"""The tasks bench/solve_rate.py runs: task directories chosen by split, name and limit, as a task set.

A task directory holds `repo/`, `PROBLEM.md` and `fix.diff` (bench/tasks, bench/small). The chosen
ones are written once into the results dir as a task set (bench/tasks/task_set.py measures their
FAIL_TO_PASS and PASS_TO_PASS), which selfcoder's eval grades both systems' patches against; a
resumed run reuses the measured instances. `ROOT/split.json` maps a split name (`search`,
`held_out`) to the task names (directory names or instance ids) in it.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "tasks"))

from selfcoder.core.errors import SelfcoderError  # noqa: E402
from selfcoder.core.task import Task  # noqa: E402

TASK_SET = "tasks.jsonl"


@dataclass
class Problem:
    name: str  # the task's directory name
    task: Task  # its instance in the task set (repo_path: the task's repo/, absolute)


def task_dirs(root: Path) -> list[Path]:
    if not Path(root).is_dir():
        raise SelfcoderError(f"--root {root}: not a directory")
    found = sorted(d for d in Path(root).resolve().iterdir() if (d / "repo").is_dir() and (d / "PROBLEM.md").is_file())
    if not found:
        raise SelfcoderError(f"--root {root}: no task directories (each needs repo/ and PROBLEM.md)")
    return found


def prefix_of(root: Path) -> str:
    """The instance id prefix bench/tasks/task_set.py gives a root's tasks: `bugfix` for bench/tasks, else the root's name."""
    return "bugfix" if Path(root).resolve() == (ROOT / "bench" / "tasks").resolve() else Path(root).resolve().name


def _key(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def split_names(root: Path, split: str) -> list[str]:
    path = Path(root) / "split.json"
    try:
        data = json.loads(path.read_text())
    except OSError:
        raise SelfcoderError(f"--split {split}: {path} does not exist") from None
    except ValueError as e:
        raise SelfcoderError(f"--split {split}: {path} is not valid JSON ({e})") from None
    halves = {_key(k): v for k, v in data.items() if isinstance(v, list)} if isinstance(data, dict) else {}
    if _key(split) not in halves:
        raise SelfcoderError(f"--split {split}: {path} has no such split (it has: {', '.join(sorted(halves)) or 'none'})")
    return [str(n) for n in halves[_key(split)]]


def _pick(dirs: list[Path], names: list[str], what: str, prefix: str) -> list[Path]:
    """The dirs `names` mean (a directory name, or task_set.py's instance id `<prefix>-<name>`), in dir order."""
    by_name = {d.name: d for d in dirs} | {f"{prefix}-{d.name}": d for d in dirs}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise SelfcoderError(f"unknown task(s) {', '.join(unknown)} in {what}: "
                             f"known are {', '.join(d.name for d in dirs[:20])}{' ...' if len(dirs) > 20 else ''}")
    wanted = {by_name[n] for n in names}
    return [d for d in dirs if d in wanted]


def choose(root: Path, split: str | None = None, names: list[str] | None = None, limit: int | None = None) -> list[Path]:
    dirs = task_dirs(root)
    if split:
        dirs = _pick(dirs, split_names(root, split), f"{root}/split.json", prefix_of(root))
    if names:
        dirs = _pick(dirs, names, f"--tasks (from {root}{', split ' + split if split else ''})", prefix_of(root))
    return dirs[:limit] if limit else dirs


def load_tasks(root: Path, out: Path, *, split: str | None = None, names: list[str] | None = None,
               limit: int | None = None, log=lambda line: None) -> list[Problem]:
    """The chosen tasks as instances of `out/tasks.jsonl`, measuring (once) the ones not in it yet."""
    from task_set import instance  # bench/tasks/task_set.py

    from selfcoder.eval.tasks import load_task_set

    dirs = choose(root, split, names, limit)
    path = Path(out) / TASK_SET
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []
    known = {str(Path(r["repo_path"]).resolve()) for r in rows}
    missing = [d for d in dirs if str((d / "repo").resolve()) not in known]
    for n, d in enumerate(missing, 1):
        log(f"measuring the tests of {d.name} ({n}/{len(missing)}: FAIL_TO_PASS, PASS_TO_PASS)")
        try:
            rows.append(instance(d, prefix_of(root)))
        except SystemExit as e:  # task_set.py's way of saying a task is broken
            raise SelfcoderError(f"task {d.name} is broken: {e}") from None
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    task_set = load_task_set(path, repos_root=Path(root))
    if task_set.problems:
        raise SelfcoderError(f"{path}: {task_set.problems[0]}")
    by_repo = {str(Path(t.repo_path).resolve()): t for t in task_set.tasks}
    return [Problem(d.name, by_repo[str((d / "repo").resolve())]) for d in dirs]
