"""Task sets for evaluation: SWE-bench instances (JSONL) plus selfcoder's local fields.

Unlike `selfcoder.core.task.load_tasks` (one bad line stops everything, right for `solve`), an
evaluation goes on: each malformed line becomes a problem naming the file and line, and the
other instances still run. Fields beyond `selfcoder.core.task.Task`:

- `environment`: `{"python": "3.9", "requirements": ["mpmath==1.3.0"], "install": "..."}`
  (selfcoder/eval/environments.py: an interpreter selfcoder finds itself, plain requirement
  specifiers only, installed in a sandbox; anything else makes the instance an `error`);
- `log_parser`: a parser name from `selfcoder.validate.parsers`; default: the official
  harness's parser for the repository (`swe_logs.REPO_PARSERS`), else by the test command;
- `test_cmd`: default for SymPy, Django and pytest repositories: the official command run on
  the test files that `test_patch` touches.

`repo_path` (a directory, git repository or tarball) is relative to the task file's directory,
and must lie inside it, or inside the `repos_root` the user names (`--repos-root`): a task file
is untrusted, and its repository is snapshotted into the sandbox, where the tests' output can
carry it into the results. An absolute path elsewhere, `..` that leaves, or a symlink that
leads out (judged on the real path) is a problem naming the line; the other instances go on.
So is a path through a hidden directory below the root (a task file saved in the home directory
must not reach `~/.ssh`) and the home directory itself or one that holds it.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from pydantic import ValidationError

from selfcoder.core.errors import SelfcoderError
from selfcoder.core.task import Task
from selfcoder.validate.workspace import patched_files
from selfcoder.validate.parsers import is_pytest_command
from selfcoder.validate.swe_logs import REPO_PARSERS


@dataclass
class TaskSet:
    tasks: list[Task] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "file:line: what is wrong"

    def by_id(self) -> dict[str, Task]:
        return {t.instance_id: t for t in self.tasks}


def repos_roots(path: Path, repos_root: Path | None = None) -> list[Path]:
    """Where the repositories of the task file `path` may lie (real paths): its directory, and
    `repos_root` when the user names one (an error when that is not a directory)."""
    roots = [Path(path).absolute().parent.resolve()]
    if repos_root is not None:
        root = Path(repos_root).expanduser()
        if not root.is_dir():
            raise SelfcoderError(f"--repos-root {repos_root}: not a directory")
        roots.append(root.resolve())
    return roots


def contained_repo(raw: Path, base: Path, roots: list[Path]) -> tuple[Path | None, str]:
    """(the real path of `raw`, relative to `base`, or None, why not): it must lie in one of `roots`."""
    joined = Path(base) / raw  # an absolute `raw` stays as it is
    try:
        real = joined.resolve()
    except (OSError, RuntimeError) as e:  # a symlink loop
        return None, f"repo_path {raw} cannot be resolved: {e}"
    home = Path.home().resolve()
    if home == real or home.is_relative_to(real):
        return None, f"repo_path {raw} is your home directory or holds it ({real}): refused"
    for root in roots:
        if real == root or real.is_relative_to(root):
            hidden = [part for part in real.relative_to(root).parts if part.startswith(".")]
            if hidden:  # ~/.ssh, ~/.gnupg, ~/.config ... beside a task file saved in the home directory
                return None, f"repo_path {raw} goes through the hidden directory {hidden[0]}: refused"
            return real, ""
    where = " or ".join(str(r) for r in roots)
    how = f" (it leads to {real})" if real != Path(os.path.normpath(os.path.abspath(joined))) else ""
    hint = "" if len(roots) > 1 else "; name the directory that holds the repositories with --repos-root"
    return None, f"repo_path {raw} is outside {where}{how}: refused, a task file may only name repositories there{hint}"


def load_task_set(path: Path, repos_root: Path | None = None) -> TaskSet:
    """Every valid instance of the JSONL file `path`; bad lines, repeated ids and repositories
    outside the allowed roots (`repos_roots`) are problems."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise SelfcoderError(f"{path}: cannot read the task set: {e.strerror}") from None
    roots = repos_roots(path, repos_root)
    result, seen = TaskSet(), set()
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            task = Task.model_validate_json(line)
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(map(str, first["loc"]))
            result.problems.append(f"{path}:{n}: {where + ': ' if where else ''}{first['msg']}")
            continue
        except ValueError as e:  # a FAIL_TO_PASS string that is not JSON
            result.problems.append(f"{path}:{n}: {e}")
            continue
        if task.instance_id in seen:
            result.problems.append(f"{path}:{n}: instance {task.instance_id} appears twice; the first is used")
            continue
        seen.add(task.instance_id)
        if task.repo_path is not None:
            task.repo_path, why = contained_repo(Path(task.repo_path), path.parent, roots)
            if task.repo_path is None:
                result.problems.append(f"{path}:{n}: instance {task.instance_id}: {why}")
                continue
        result.tasks.append(task)
    if not result.tasks and not result.problems:
        raise SelfcoderError(f"{path}: the task set is empty")
    return result


def instance_ids(values: list[str] | None) -> list[str] | None:
    """The ids `--instances` names: each value an id, a comma-separated list, or `@FILE` (ids separated
    by lines, commas or blanks; `#` starts a comment), as users paste them from a report or a list."""
    if not values:
        return values
    ids: list[str] = []
    for value in values:
        if value.startswith("@"):
            try:
                text = Path(value[1:]).expanduser().read_text()
            except (OSError, UnicodeDecodeError) as e:
                raise SelfcoderError(f"--instances {value}: cannot read the file: {getattr(e, 'strerror', None) or e}") from None
            parts = [word for line in text.splitlines() for word in re.split(r"[\s,]+", line.split("#", 1)[0])]
        else:
            parts = value.split(",")
        ids += [p.strip() for p in parts if p.strip()]
    if not ids:
        raise SelfcoderError("--instances names no instance id")
    return list(dict.fromkeys(ids))


def select(tasks: list[Task], instances: list[str] | None, limit: int | None) -> list[Task]:
    """The tasks named (an unknown id is an error listing it), then the first `limit`."""
    if instances:
        known = {t.instance_id for t in tasks}
        unknown = [i for i in instances if i not in known]
        if unknown:
            raise SelfcoderError(f"unknown instance id(s): {', '.join(unknown)}")
        wanted = set(instances)
        tasks = [t for t in tasks if t.instance_id in wanted]
    return tasks[:limit] if limit is not None else tasks


def extra(task: Task, key: str, default=None):
    return (task.model_extra or {}).get(key, default)


def _test_files(task: Task) -> list[str]:
    return [p for p in patched_files(task.test_patch or "") if p.endswith(".py")]


def default_test_cmd(task: Task) -> str | None:
    """The official harness's command for the repository, on the files the test patch touches."""
    files = _test_files(task)
    if not files:
        return None
    if task.repo == "sympy/sympy":
        return ("PYTHONWARNINGS='ignore::UserWarning,ignore::SyntaxWarning' python bin/test -C --verbose "
                + shlex.join(files))
    if task.repo == "django/django":
        modules = [re.sub(r"\.py$", "", str(PurePosixPath(f).relative_to("tests"))).replace("/", ".")
                   for f in files if f.startswith("tests/")]
        return "./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1 " + shlex.join(modules)
    if task.repo in REPO_PARSERS:
        return "pytest --no-header -rA --tb=no -p no:cacheprovider " + shlex.join(files)
    return None


def test_cmd_of(task: Task) -> str | None:
    return task.test_cmd or default_test_cmd(task)


def log_parser_of(task: Task) -> str | None:
    """The parser name for the task's logs; None lets validation choose from the command."""
    named = extra(task, "log_parser")
    if named:
        return str(named)
    if task.repo in REPO_PARSERS:
        return REPO_PARSERS[task.repo]
    cmd = test_cmd_of(task) or ""
    if "bin/test" in cmd:
        return "sympy"
    if "runtests.py" in cmd:
        return "django"
    if re.search(r"-m\s+unittest\b", cmd):
        return "unittest"
    if is_pytest_command(cmd):
        return "pytest-ra"
    return None
