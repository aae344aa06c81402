"""Solve a problem in a repository: build the task, run up to N attempts, keep a validated one.

Used by `selfcoder solve`, `selfcoder demo` and the language server; none of them write the
user's files here (see `selfcoder.worktree_apply`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from selfcoder.config import Settings
from selfcoder.errors import SelfcoderError
from selfcoder.scaffold import resolve_scaffold
from selfcoder.cancel import CancelToken
from selfcoder.events import AttemptStarted, EventCallback
from selfcoder.runner import RunResult, new_run_id, run
from selfcoder.task import Task

PYTEST_CMD = "python3 -m pytest -q"


def detect_test_cmd(repo: Path) -> str | None:
    """A default test command for common layouts, or None when we can't tell."""
    if not repo.is_dir():
        return None
    markers = ["pytest.ini", "conftest.py", "tox.ini", "setup.cfg"]
    if any((repo / m).exists() for m in markers) or (repo / "tests").is_dir():
        return PYTEST_CMD
    if any(repo.glob("test_*.py")) or any(repo.glob("*/test_*.py")):
        return PYTEST_CMD
    return None


def make_task(repo: Path, problem: str, test_cmd: str | None = None, instance_id: str | None = None) -> Task:
    """A Task for a local repository; clear errors for a missing repo or empty problem."""
    repo = Path(repo).expanduser().resolve()
    if not repo.exists():
        raise SelfcoderError(f"{repo}: no such directory")
    if not repo.is_dir() and not str(repo).endswith((".tar", ".tar.gz", ".tgz")):
        raise SelfcoderError(f"{repo}: not a directory, git repository or tarball")
    if not problem or not problem.strip():
        raise SelfcoderError("the problem statement is empty: say what to change with -p TEXT or -f FILE")
    test_cmd = test_cmd or detect_test_cmd(repo)
    if test_cmd is None:
        raise SelfcoderError(f"{repo}: cannot tell how to run its tests; pass --test-cmd CMD")
    return Task(instance_id=instance_id or repo.name, problem_statement=problem, repo_path=repo, test_cmd=test_cmd)


@dataclass
class SolveOutcome:
    attempts: list[RunResult] = field(default_factory=list)

    @property
    def best(self) -> RunResult | None:
        """The validated attempt, else the last one."""
        for result in self.attempts:
            if result.validated:
                return result
        return self.attempts[-1] if self.attempts else None


def solve(task: Task, settings: Settings, *, attempts: int = 1, on_event: EventCallback | None = None,
          cancel: CancelToken | None = None, budget=None) -> SolveOutcome:
    """Run attempts until one is validated (or `attempts` are used up, or one ends in a way no
    further attempt can help: budget spent, cancelled, model unavailable). All attempts share
    `cancel` and `budget`."""
    if attempts < 1:
        raise SelfcoderError("--attempts must be at least 1")
    scaffold = resolve_scaffold(settings.agent.node)  # a wrong --agent is a usage error, not a failed run
    cancel = cancel or CancelToken()
    outcome = SolveOutcome()
    for n in range(1, attempts + 1):
        run_id = new_run_id()
        if on_event:
            on_event(AttemptStarted(run_id, n=n, of=attempts))
        result = run(task, settings, scaffold=scaffold, run_id=run_id, cancel=cancel, on_event=on_event, budget=budget)
        outcome.attempts.append(result)
        if result.status.final_for_attempts:
            break
    return outcome
