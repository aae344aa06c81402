"""Which mutants become tasks: candidates in a seeded order, tried in sandboxes in parallel, kept
when at least one test fails and at least one still passes.

Determinism: the candidate order depends only on the sources and the seed (operators take
turns, each operator's sites shuffled by `random.Random(seed)`), and the kept set is the first
`count` keepers *in that order*, whatever order the parallel runs finish in. So the same
sdist, seed and count give the same tasks (up to flaky tests).
"""

from __future__ import annotations

import hashlib
import random
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from selfcoder.taskgen import mutations
from selfcoder.taskgen.runtests import TestOutcome, TestRunner


@dataclass
class Candidate:
    file: str
    site: mutations.Site
    original: str = ""
    mutated: str = ""

    def describe(self) -> str:
        return f"{self.site.op} {self.file}:{self.site.lineno}"

    def digest(self) -> str:
        return hashlib.sha256(f"{self.file}\0{self.mutated}".encode()).hexdigest()[:8]


@dataclass
class Kept:
    candidate: Candidate
    fail_to_pass: list[str]
    pass_to_pass: list[str]
    outcome: TestOutcome


@dataclass
class SearchStats:
    tried: int = 0
    kept: int = 0
    rejected: dict[str, int] = field(default_factory=dict)  # why -> how many


def read_source(root: Path, rel: str) -> str | None:
    """The file's text with its line endings as they are, or None when it is not UTF-8 Python."""
    try:
        return (root / rel).read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def order_candidates(root: Path, files: list[str], seed: int, operators: list[str] | None = None) -> list[Candidate]:
    """Every mutation site of `files`, operators taking turns, each operator's sites shuffled by `seed`."""
    by_op: dict[str, list[Candidate]] = {}
    for rel in files:
        text = read_source(root, rel)
        if text is None:
            continue
        try:
            sites = mutations.find_sites(text, operators)
        except (SyntaxError, ValueError, RecursionError):
            continue  # a module this Python cannot parse (other version's syntax): not mutated
        for site in sites:
            by_op.setdefault(site.op, []).append(Candidate(rel, site))
    rng = random.Random(seed)
    ops = sorted(by_op)
    rng.shuffle(ops)
    for op in ops:
        rng.shuffle(by_op[op])
    ordered: list[Candidate] = []
    queues = [list(by_op[op]) for op in ops]
    while any(queues):
        for queue in queues:
            if queue:
                ordered.append(queue.pop(0))
    return ordered


def _not_collected(test: str, after: dict[str, str]) -> bool:
    """A test missing because its file failed to import (a collection error names the file):
    it fails, as the official rule counts a missing test. Missing for no such reason, it counts
    neither way (an unstable id)."""
    return test not in after and after.get(test.split("::")[0]) == "error"


def judge(outcome: TestOutcome, passing: set[str]) -> tuple[list[str], list[str], str]:
    """(FAIL_TO_PASS, PASS_TO_PASS, why rejected or '') for a mutant's test run."""
    if outcome.timed_out:
        return [], [], "timed out"
    if not outcome.statuses:
        return [], [], "no test ran"
    after = outcome.statuses
    fail = sorted(t for t in passing if after.get(t) in ("failed", "error") or _not_collected(t, after))
    still = sorted(t for t in passing if after.get(t) == "passed")
    if not fail:
        return [], [], "no test fails"
    if not still:
        return [], [], "no test passes"
    return fail, still, ""


class Search:
    """Tries candidates until `count` are kept (or `max_tries` were tried, or none are left)."""

    def __init__(self, runner: TestRunner, passing: set[str], *, count: int, max_tries: int, timeout: float,
                 workers: int = 2, log: Callable[[str], None] = lambda s: None, label: str = ""):
        self.runner, self.passing, self.count, self.max_tries = runner, passing, count, max_tries
        self.timeout, self.workers, self.log, self.label = timeout, max(1, workers), log, label
        self.stats = SearchStats()
        self._seen: set[str] = set()
        self._kept = 0  # kept so far, in finishing order (for the progress line)
        self._lock = threading.Lock()

    def _prepare(self, cand: Candidate, root: Path) -> bool:
        """Write the mutant's text; False when the site gives no clean edit or repeats an earlier mutant."""
        cand.original = read_source(root, cand.file) or ""
        mutated = mutations.apply(cand.original, cand.site) if cand.original else None
        if mutated is None:
            return False
        cand.mutated = mutated
        key = cand.digest()
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    def _try(self, cand: Candidate) -> tuple[Kept | None, str]:
        outcome = self.runner.run({cand.file: cand.mutated}, timeout=self.timeout, label=self.label)
        fail, still, why = judge(outcome, self.passing)
        with self._lock:
            self.stats.tried += 1
            self._kept += not why
            if why:
                self.stats.rejected[why] = self.stats.rejected.get(why, 0) + 1
        return (Kept(cand, fail, still, outcome) if not why else None), why

    def run(self, candidates: list[Candidate], root: Path) -> list[Kept]:
        decided: dict[int, Kept | None] = {}
        pending: dict[Future, int] = {}
        queue = iter(range(len(candidates)))
        submitted = 0

        def kept_prefix() -> tuple[list[Kept], bool]:
            kept, i = [], 0
            while i in decided:
                if decided[i] is not None:
                    kept.append(decided[i])
                i += 1
            return kept, i == len(candidates)

        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="taskgen") as pool:
            try:
                while True:
                    kept, exhausted = kept_prefix()
                    if len(kept) >= self.count or exhausted:
                        break
                    while len(pending) < self.workers and submitted < self.max_tries:
                        index = next(queue, None)
                        if index is None:
                            break
                        if not self._prepare(candidates[index], root):
                            decided[index] = None
                            continue
                        pending[pool.submit(self._try, candidates[index])] = index
                        submitted += 1
                    if not pending:
                        if submitted >= self.max_tries:
                            break
                        continue
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        index = pending.pop(future)
                        decided[index], why = future.result()
                        self._report(candidates[index], decided[index], why)
            finally:
                for future in pending:
                    future.cancel()
        kept, _ = kept_prefix()
        kept = kept[: self.count]
        self.stats.kept = len(kept)
        return kept

    def _report(self, cand: Candidate, kept: Kept | None, why: str) -> None:
        verdict = (f"kept ({len(kept.fail_to_pass)} fail, {len(kept.pass_to_pass)} pass)" if kept
                   else f"rejected: {why}")
        self.log(f"{self.label}: tried {self.stats.tried}, kept {min(self._kept, self.count)}/{self.count}: "
                 f"{cand.describe()} → {verdict}")
