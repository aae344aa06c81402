"""Solve a problem in a repository: build the task, run up to N attempts, keep a validated one.

Used by `selfcoder solve`, `selfcoder demo` and the language server; none of them write the
user's files here (see `selfcoder.core.worktree_apply`).

Attempts differ: attempt n samples at its own temperature and seed (`selfcoder.llm.sampling`),
imposed by the host. Up to `agent.parallel_attempts` run at once, sharing the caller's budget
and cancel token. The host's validation decides (FAIL_TO_PASS pass, PASS_TO_PASS still pass);
the first validated patch stops the rest unless every attempt is asked for, and among several
validated patches the one most attempts agree on wins (a majority vote over normalised diffs,
as Agentless does), then the smallest.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from selfcoder.core.config import Settings
from selfcoder.core.errors import SelfcoderError
from selfcoder.core.scaffold import resolve_scaffold
from selfcoder.core.cancel import CancelToken
from selfcoder.core.events import AttemptStarted, EventCallback
from selfcoder.llm.sampling import attempt_sampling, new_series
from selfcoder.solve.runner import RunResult, new_run_id, run
from selfcoder.core.status import RunStatus
from selfcoder.core.task import Task

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
    attempts: list[RunResult] = field(default_factory=list)  # in attempt order
    chosen: RunResult | None = None  # the validated attempt selected, if any

    @property
    def best(self) -> RunResult | None:
        """The chosen validated attempt, else the last one."""
        if self.chosen is not None:
            return self.chosen
        return self.attempts[-1] if self.attempts else None


def normalise_diff(patch: str) -> str:
    """What a patch changes, per file: its added and removed lines with whitespace collapsed and
    blank ones dropped; hunk positions, context and index lines do not count."""
    out = []
    for line in patch.splitlines():
        if line.startswith("diff --git "):
            out.append(line)
        elif line[:1] in "+-" and not line.startswith(("+++ ", "--- ")):
            text = " ".join(line[1:].split())
            if text:
                out.append(line[0] + text)
    return "\n".join(out)


def choose(validated: list[RunResult]) -> RunResult | None:
    """The patch most validated attempts agree on (normalised), then the smallest, then the first."""
    if not validated:
        return None
    norms = [normalise_diff(r.patch) for r in validated]
    votes = Counter(norms)
    best = min(range(len(validated)), key=lambda i: (-votes[norms[i]], len(norms[i]), i))
    return validated[best]


def parallel_attempts(settings: Settings, attempts: int) -> int:
    """How many attempts run at once: `agent.parallel_attempts`, where 'auto' is 1 on the local
    model (its server answers one request at a time) and else half the CPUs (tests run too)."""
    wanted = settings.agent.parallel_attempts
    if wanted == "auto":
        from selfcoder.llm.cpus import available_cpus
        from selfcoder.llm.models import LOCAL, choose as choose_model

        wanted = 1 if choose_model(settings.model.name) == LOCAL else max(1, available_cpus() // 2)
    return max(1, min(int(wanted), attempts))


def solve(task: Task, settings: Settings, *, attempts: int | None = None, all_attempts: bool = False,
          on_event: EventCallback | None = None, cancel: CancelToken | None = None, budget=None,
          scaffold: Path | str | None = None, run_dir: Path | None = None, first_run_id: str | None = None,
          validate: bool = True) -> SolveOutcome:
    """Run attempts (default `agent.attempts`) until one is validated (unless `all_attempts`), all
    are used up, or one ends in a way no further attempt can help (budget spent, cancelled, model
    unavailable). All attempts share `cancel` and `budget`; a validated one cancels those still
    running. `run_dir`: the record of a single attempt, else `run_dir/attempt-N`; `first_run_id`:
    the run id of attempt 1 (the language server has announced it). Without `validate` (eval,
    whose tests are hidden) every attempt runs and the vote is over the non-empty patches."""
    attempts = settings.agent.attempts if attempts is None else attempts
    if attempts < 1:
        raise SelfcoderError("--attempts must be at least 1")
    all_attempts = all_attempts or not validate
    scaffold = scaffold or resolve_scaffold(settings.agent.node)  # a wrong --agent is a usage error, not a failed run
    cancel = cancel or CancelToken()
    stop = CancelToken()  # the attempts' own token: the caller's cancel, or an early stop
    unregister = cancel.on_cancel(lambda: stop.cancel(cancel.reason))
    series = new_series(settings.agent.seed)
    numbers = iter(range(1, attempts + 1))
    results: dict[int, RunResult] = {}
    lock = threading.Lock()
    done = [False]

    def worker() -> None:
        while True:
            with lock:
                n = None if done[0] or stop.cancelled else next(numbers, None)
            if n is None:
                return
            run_id = first_run_id if n == 1 and first_run_id else new_run_id()
            where = None if run_dir is None else Path(run_dir) if attempts == 1 else Path(run_dir) / f"attempt-{n}"
            sampling = attempt_sampling(settings.agent, n, attempts, series)
            if on_event:
                on_event(AttemptStarted(run_id, n=n, of=attempts, temperature=sampling.temperature, seed=sampling.seed))
            result = run(task, settings, scaffold=scaffold, run_id=run_id, run_dir=where, cancel=stop,
                         on_event=on_event, budget=budget, sampling=sampling, validate=validate)
            with lock:
                results[n] = result
                if result.status.final_for_attempts and not (all_attempts and result.validated):
                    done[0] = True
            if result.validated and not all_attempts:
                stop.cancel(f"attempt {n} was validated")

    try:
        _run_workers(worker, parallel_attempts(settings, attempts), stop)
    finally:
        unregister()
    outcome = SolveOutcome(attempts=[results[n] for n in sorted(results)])
    accepted = RunStatus.RESOLVED if validate else RunStatus.NOT_VALIDATED
    outcome.chosen = choose([r for r in outcome.attempts if r.status == accepted])
    return outcome


def _run_workers(worker, count: int, stop: CancelToken) -> None:
    """`worker` in this thread (one at a time: Ctrl-C reaches the run as before) or in `count`
    threads; Ctrl-C while they run cancels them, waits for them, and goes on up."""
    if count == 1:
        return worker()
    errors: list[BaseException] = []

    def guarded() -> None:
        try:
            worker()
        except BaseException as e:  # noqa: BLE001 - a bug in one attempt: stop the rest, raise it here
            errors.append(e)
            stop.cancel(f"an attempt failed: {type(e).__name__}")

    threads = [threading.Thread(target=guarded, name=f"attempt-worker-{i}") for i in range(count)]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    except KeyboardInterrupt:
        stop.cancel("interrupted by the user")
        for thread in threads:
            thread.join()
        raise
    if errors:
        raise errors[0]
