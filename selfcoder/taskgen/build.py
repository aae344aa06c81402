"""`bench gen` for one sdist: real tasks from a real project, in the manner of SWE-smith.

    instances = generate(GenConfig(sdist="toolz==1.0.0", count=5, seed=1), out, settings=settings)
    write_task_set(out, instances)

1. the sdist (cache or package index, on the host), unpacked, a git repository of one commit;
2. its environment (selfcoder/eval/environments.py: a venv per spec hash, requirements as
   plain specifiers, fetched as wheels and installed in a sandbox) and its tests run clean in
   the sandbox: they must run, and pass;
3. mutants tried in sandboxes (search.py), kept when ≥ 1 test fails and ≥ 1 still passes;
4. each kept mutant becomes a SWE-bench instance: its own git repository under
   `out/repos/<id>` whose only commit is the buggy tree (`base_commit`; the original code is
   nowhere in it), `patch` the fix (buggy → original), FAIL_TO_PASS / PASS_TO_PASS from the
   mutant's full test run, a statement from the failing tests (or a model's bug report).
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from selfcoder.eval.environments import EnvSpec, prepare
from selfcoder.core.files import atomic_write
from selfcoder.sandbox.base import Limits
from selfcoder.taskgen import sdist, statement
from selfcoder.taskgen.runtests import TestOutcome, TestRunner, default_test_cmd, with_output_room
from selfcoder.taskgen.search import Kept, Search, order_candidates
from selfcoder.taskgen.sdist import SdistError

TRIES_PER_TASK = 20  # default candidate budget: count × this
SRC_INSTALL = 'export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"'


@dataclass
class GenConfig:
    sdist: str  # NAME==VERSION or a local archive
    count: int = 5
    seed: int = 0
    python: str | None = None
    requirements: list[str] = field(default_factory=list)
    install: str | None = None  # default: src on PYTHONPATH for a src/ layout
    test_cmd: str | None = None  # default: pytest on the test paths
    tests: list[str] | None = None  # default: found in the sdist
    files: list[str] | None = None  # the modules to mutate (prefixes); default: every source module
    operators: list[str] | None = None
    max_tries: int | None = None
    allow_clean_failures: bool = False


@dataclass
class GenResult:
    instances: list[dict]
    project: str
    tried: int
    rejected: dict[str, int]
    seconds: float


def environment_field(cfg: GenConfig, root: Path) -> dict:
    env: dict[str, Any] = {}
    if cfg.python:
        env["python"] = cfg.python
    if cfg.requirements:
        env["requirements"] = list(cfg.requirements)
    install = cfg.install if cfg.install is not None else (SRC_INSTALL if sdist.src_layout(root) else None)
    if install:
        env["install"] = install
    return env


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no output)"


def check_clean(outcome: TestOutcome, label: str, allow_failures: bool, log: Callable[[str], None],
                again: TestOutcome | None = None) -> set[str]:
    """The tests that pass before any change (in both runs, under the same id: `again` is a second
    clean run); an error naming what is wrong with the clean run."""
    if outcome.timed_out:
        raise SdistError(f"{label}: the tests time out before any change: {_last_line(outcome.log_tail)}")
    if not outcome.statuses:
        raise SdistError(f"{label}: the test command reports no tests (exit {outcome.exit_code}): "
                         f"{_last_line(outcome.log_tail)}")
    failing = outcome.with_status("failed", "error")
    if failing and not allow_failures:
        shown = ", ".join(failing[:3]) + (f" and {len(failing) - 3} more" if len(failing) > 3 else "")
        raise SdistError(f"{label}: {len(failing)} test(s) fail before any change: {shown} "
                         "(fix the environment, or --allow-clean-failures to leave them out)")
    if failing:
        log(f"{label}: leaving out {len(failing)} test(s) that fail before any change")
    passing = set(outcome.with_status("passed"))
    if again is not None:
        unstable = passing - set(again.with_status("passed"))
        # a parametrized family whose ids move (parameters from a set) may move again: all of it goes
        families = {t.split("[")[0] for t in unstable if "[" in t}
        unstable |= {t for t in passing if t.split("[")[0] in families}
        if unstable:
            log(f"{label}: leaving out {len(unstable)} test(s) whose result or id changes from one clean run "
                f"to the next, e.g. {sorted(unstable)[0]}")
        passing -= unstable
    if not passing:
        raise SdistError(f"{label}: no test passes before any change")
    return passing


def _known_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py") if ".git" not in p.parts)


def generate(cfg: GenConfig, out: Path, *, backend: str = "local", limits: Limits | None = None, workers: int = 2,
             gateway: Any = None, log: Callable[[str], None] = lambda s: None) -> GenResult:
    """Build up to `cfg.count` tasks from one sdist into `out/repos/`; returns their instances."""
    started = time.monotonic()
    if cfg.count < 1:
        raise SdistError("--count must be at least 1")
    archive = sdist.locate(cfg.sdist, log)
    work = Path(tempfile.mkdtemp(prefix="selfcoder-taskgen-"))
    work.chmod(0o755)
    try:
        project = sdist.unpack(archive, work / "clean")
        root, label = project.root, f"{project.name} {project.version}"
        tests = cfg.tests or sdist.find_tests(root)
        if not tests:
            raise SdistError(f"{label}: the sdist holds no tests (no tests/ or test/ directory, no test_*.py file)")
        missing = [t for t in tests if not (root / t).exists()]
        if missing:
            raise SdistError(f"{label}: test path(s) not in the sdist: {', '.join(missing)}")
        files = [f for f in sdist.source_files(root, tests)
                 if not cfg.files or any(f == p or f.startswith(p.rstrip("/") + "/") for p in cfg.files)]
        if not files:
            raise SdistError(f"{label}: no Python module to mutate outside the tests")
        sdist.commit_tree(root, f"{project.name} {project.version}")
        env_field = environment_field(cfg, root)
        spec = EnvSpec.from_task_field(env_field)
        environment = prepare(spec, backend, log=log) if spec else None
        test_cmd = cfg.test_cmd or default_test_cmd(tests)
        limits = with_output_room(limits or Limits())
        runner = TestRunner(root, test_cmd, environment=environment, limits=limits, backend=backend,
                            known_files=_known_files(root))
        log(f"{label}: running its tests before any change ({test_cmd})")
        clean = runner.run(label="clean")
        passing = check_clean(clean, label, cfg.allow_clean_failures, log, runner.run(label="clean"))
        log(f"{label}: {len(passing)} tests pass in {clean.duration_s:.1f} s; {len(files)} modules to mutate")
        candidates = order_candidates(root, files, cfg.seed, cfg.operators)
        timeout = min(limits.timeout_s, max(30.0, 3 * clean.duration_s + 10))
        search = Search(runner, passing, count=cfg.count, max_tries=cfg.max_tries or cfg.count * TRIES_PER_TASK,
                        timeout=timeout, workers=workers, log=log, label=label)
        kept = search.run(candidates, root)
        instances = [_instance(project, k, root, out, env_field, test_cmd, gateway, log) for k in kept]
        if len(kept) < cfg.count:
            log(f"{label}: kept {len(kept)} of the {cfg.count} asked for ({search.stats.tried} candidates tried)")
        return GenResult(instances, label, search.stats.tried, dict(search.stats.rejected),
                         round(time.monotonic() - started, 1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _instance(project: sdist.Project, kept: Kept, clean_root: Path, out: Path, env_field: dict, test_cmd: str,
              gateway: Any, log: Callable[[str], None]) -> dict:
    cand = kept.candidate
    instance_id = f"{_slug(project.name)}__{project.version}-{cand.digest()}"
    repo_dir = Path(out) / "repos" / instance_id
    shutil.rmtree(repo_dir, ignore_errors=True)
    repo_dir.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(clean_root, repo_dir, symlinks=True, ignore=lambda d, names: [".git"] if Path(d) == clean_root else [])
    (repo_dir / cand.file).write_bytes(cand.mutated.encode("utf-8"))
    base_commit = sdist.commit_tree(repo_dir, f"{project.name} {project.version}")
    patch = sdist.diff_to(repo_dir, cand.file, cand.original)
    name = f"{project.name} {project.version}"
    problem = None
    if gateway is not None:
        problem, why = statement.from_model(gateway, project.name, kept.fail_to_pass, kept.outcome.messages,
                                            clean_root, patch)
        if problem is None:
            log(f"{instance_id}: statement written from the test output instead ({why})")
    if problem is None:
        problem = statement.from_tests(name, kept.fail_to_pass, kept.outcome.messages, len(kept.pass_to_pass))
    instance = {
        "instance_id": instance_id,
        "repo": f"pypi/{_slug(project.name)}",
        "base_commit": base_commit,
        "problem_statement": problem,
        "patch": patch,
        "test_patch": "",
        "FAIL_TO_PASS": kept.fail_to_pass,
        "PASS_TO_PASS": kept.pass_to_pass,
        "version": project.version,
        "environment_setup_commit": base_commit,
        "hints_text": "",
        "created_at": project.created_at,
        "repo_path": f"repos/{instance_id}",
        "test_cmd": test_cmd,
        "log_parser": "pytest",
    }
    if env_field:
        instance["environment"] = env_field
    return instance


def write_task_set(out: Path, instances: list[dict], name: str = "tasks.jsonl") -> Path:
    """`out/tasks.jsonl`: one SWE-bench instance per line (written atomically)."""
    path = Path(out) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, "".join(json.dumps(i) + "\n" for i in instances))
    return path
