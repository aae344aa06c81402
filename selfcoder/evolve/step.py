"""One self-modification: the parent agent rewrites its own code; the diff is the child.

1. `pick_target`: what the parent should improve, as DGM does — a task it failed, preferring
   empty patches and context/budget overflows — with that run's log.
2. `diagnose`: a prompt on the host (through the Gateway, `diagnosis_model`) turns the log into
   a problem statement about the agent's own code.
3. The parent agent runs (`runner.run`, a sandbox like any run) on a checkout of its own code
   with that problem; its patch is the child. A patch naming a path outside the scaffold
   (absolute, `..`, `.git/`, a link) is rejected.
4. `admit`: the child's diff does not reach into the test framework (`tamper_problem`), its
   files compile and its own tests pass (both in a sandbox), and it completes a smoke task;
   otherwise the child is recorded invalid with the reason. A child whose graded patches later
   come back `suspicious` is made invalid then (search.py).

Nothing a child prints or exits with is trusted: admission reads the sandbox's exit status of
commands the host chose, and scores come only from the host's grading (search.py).
"""

from __future__ import annotations

import json
import random
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from selfcoder.cancel import CancelToken
from selfcoder.config import Settings
from selfcoder.errors import SelfcoderError
from selfcoder.evolve.db import EvalRow
from selfcoder.scaffold import copy_scaffold
from selfcoder.status import RunStatus
from selfcoder.task import Task

COMPLETED = frozenset({"submitted", "step_limit", "time_limit", "token_limit"})  # the agent ran to an end
DIAGNOSIS_SYSTEM = (
    "You improve a coding agent. The agent is a small Python program (its loop, prompts and tools). "
    "You are shown a task it failed and the log of its attempt. Find the weakness in the AGENT'S OWN "
    "CODE (not in the task's repository) that caused the failure, and write a problem statement for "
    "a developer who will change the agent's code. Answer with the problem statement only.")


class BudgetSpent(SelfcoderError):
    """The shared budget ran out in the middle of a step: nothing is recorded, the search stops."""


@dataclass
class Target:
    task: str | None
    kind: str  # failed | empty_patch | overflow | explore
    log: str = ""


@dataclass
class Child:
    files: Path | None  # the child's scaffold directory (None: no usable diff)
    status: str  # valid | invalid
    reason: str | None
    origin: dict
    tokens: int = 0
    cost_usd: float = 0.0
    log_path: str = ""
    usage: dict = field(default_factory=dict)


def pick_target(evals: list[EvalRow], rng: random.Random) -> Target:
    """A failed evaluation of the parent, preferring empty patches and overflows (DGM's special cases)."""
    failed = [e for e in evals if not e.resolved]
    if not failed:
        return Target(task=None, kind="explore", log="The agent resolved every task it was evaluated on.")
    special = [e for e in failed if e.outcome in ("empty_patch", "budget_exceeded", "token_limit")]
    chosen = rng.choice(special or failed)
    kind = {"empty_patch": "empty_patch", "budget_exceeded": "overflow", "token_limit": "overflow"}.get(
        chosen.outcome, "failed")
    return Target(task=chosen.task, kind=kind, log=_run_log(Path(chosen.log_path)) if chosen.log_path else "")


def _tail(path: Path, chars: int) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return text[-chars:]


def _run_log(run_dir: Path) -> str:
    """What the diagnosis sees of a run: result, patch, the end of the trajectory."""
    parts = [f"result: {_tail(run_dir / 'result.json', 2000)}",
             f"patch:\n{_tail(run_dir / 'patch.diff', 3000) or '(empty)'}",
             f"trajectory (end):\n{_tail(run_dir / 'trajectory.jsonl', 6000)}"]
    return "\n\n".join(parts)


def diagnose(target: Target, task: Task | None, settings: Settings, run_dir: Path, budget: Any) -> tuple[str, dict]:
    """(problem statement about the agent's code, usage) from the diagnosis model, on the host."""
    from selfcoder.errors import BudgetExceeded
    from selfcoder.llm import Gateway, TrajectoryLog
    from selfcoder.llm.budget import Budget

    run_dir.mkdir(parents=True, exist_ok=True)
    what = {"failed": "did not resolve", "empty_patch": "produced no change for",
            "overflow": "ran out of its token/context budget on", "explore": "resolved everything"}[target.kind]
    user = (f"The agent {what} this task.\n\nTask: {task.problem_statement if task else '(none)'}\n\n"
            f"Log of the attempt:\n{target.log}\n\nWrite the problem statement for the change to the agent's code.")
    messages = [{"role": "system", "content": DIAGNOSIS_SYSTEM}, {"role": "user", "content": user}]
    gateway = Gateway(settings, run_id=run_dir.name, trajectory=TrajectoryLog(run_dir / "diagnosis.jsonl"),
                      budget=Budget.from_settings(settings.budget, parent=budget))
    try:
        reply = gateway.complete(messages)
    except BudgetExceeded as e:
        raise BudgetSpent(str(e)) from None
    finally:
        gateway.close()
    problem = reply.text.strip()
    if not problem:
        raise SelfcoderError("the diagnosis model gave an empty reply")
    return problem, gateway.usage.to_json()


def patch_paths_problem(patch: str) -> str | None:
    """Why a child's patch touches something outside its scaffold, or None."""
    for line in patch.splitlines():
        if line.startswith(("new file mode 120000", "new mode 120000", "old mode 120000")):
            return "the diff makes a link (a scaffold holds plain files only)"
        if line.startswith(("diff --git ", "--- ", "+++ ", "rename from ", "rename to ", "copy from ", "copy to ")):
            for path in _paths(line):
                parts = Path(path).parts
                if path.startswith("/") or ".." in parts or (parts and parts[0] == ".git"):
                    return f"the diff touches {path!r}, outside the scaffold"
    return None


def tamper_problem(patch: str, parent_dir: Path) -> str | None:
    """Why a child's diff looks like reward hacking (code reaching into pytest, unittest, the
    interpreter's modules), or None: the same scan as a graded patch gets (validate/tamper.py)."""
    from selfcoder.validate.tamper import scan_patch

    def old_text(path: str) -> str | None:
        try:
            return (parent_dir / path).read_text(errors="replace")
        except OSError:
            return None

    hits = scan_patch(patch, old_text=old_text)
    return "the diff reaches into the test framework: " + "; ".join(hits[:3]) if hits else None


def _paths(line: str) -> list[str]:
    if line.startswith("diff --git "):
        rest = line[len("diff --git "):]
        return [p[2:] if p[:2] in ("a/", "b/") else p for p in rest.split(" ")]
    value = line.split(" ", 2)[-1] if line.startswith(("rename", "copy")) else line[4:]
    if value == "/dev/null":
        return []
    return [value[2:] if value[:2] in ("a/", "b/") else value]


def apply_child(parent_dir: Path, patch: str, dest: Path) -> None:
    """The child's files: a copy of the parent with `patch` applied (hardened git apply)."""
    from selfcoder.gitsafe import git, stand_in_repo_env

    copy_scaffold(parent_dir, dest)
    with tempfile.TemporaryDirectory(prefix="selfcoder-child-git-") as tmp:
        env = stand_in_repo_env(Path(tmp) / "git", dest)
        proc = git(["apply", "--whitespace=nowarn", "-"], cwd=dest, env=env,
                   input=patch.encode("utf-8", "surrogateescape"), check=False)
    if proc.returncode != 0:
        first = (proc.stderr.decode(errors="replace").strip().splitlines() or ["git apply failed"])[0]
        raise SelfcoderError(f"the diff does not apply to the parent: {first}")


def self_check(child: Path, settings: Settings, test_cmd: str, cancel: CancelToken) -> str | None:
    """Compile every file and run the child's own tests, in a sandbox; the reason it fails, or None."""
    from selfcoder.sandbox import open_sandbox
    from selfcoder.sandbox.base import Limits, SandboxSpec

    spec = SandboxSpec(source=child, limits=Limits.from_settings(settings.sandbox), run_id="evolve-admit")
    sandbox = open_sandbox(spec, settings.sandbox.backend)
    unregister = cancel.on_cancel(sandbox.close)
    try:
        with sandbox:
            compiled = sandbox.run("python3 -m compileall -q .")
            if compiled.exit_code != 0:
                return "does not compile: " + compiled.output.strip()[-300:]
            if test_cmd:
                tests = sandbox.run(test_cmd)
                if tests.exit_code != 0:
                    return "its own tests fail: " + tests.output.strip()[-300:]
    finally:
        unregister()
    cancel.check()
    return None


def smoke(child: Path, task: Task, settings: Settings, run_dir: Path, budget: Any, cancel: CancelToken) -> tuple[str | None, dict]:
    """Run the child on the smoke task (no grading): the reason it did not complete, or None."""
    from selfcoder.runner import run

    result = run(task, settings, scaffold=child, run_dir=run_dir, cancel=cancel, budget=budget, validate=False)
    cancel.check()
    if result.status == RunStatus.BUDGET_EXCEEDED and budget is not None and budget.exceeded():
        raise BudgetSpent(budget.exceeded())
    if result.agent_status not in COMPLETED:
        return f"smoke task {task.instance_id}: the agent ended '{result.agent_status}': {result.message[:200]}", result.usage
    return None, result.usage


def modify(parent_dir: Path, problem: str, *, settings: Settings, test_cmd: str, work: Path, budget: Any,
           cancel: CancelToken):
    """The parent agent edits a checkout of its own code; returns the runner's result (patch = child)."""
    from selfcoder.runner import run

    checkout = work / "checkout"
    copy_scaffold(parent_dir, checkout)
    task = Task(instance_id=f"selfmod-{work.name}", problem_statement=problem, repo_path=checkout,
                test_cmd=test_cmd or None)
    result = run(task, settings, scaffold=parent_dir, run_dir=work / "run", cancel=cancel, budget=budget,
                 validate=False)
    cancel.check()
    if result.status == RunStatus.BUDGET_EXCEEDED and budget is not None and budget.exceeded():
        raise BudgetSpent(budget.exceeded())
    shutil.rmtree(checkout, ignore_errors=True)
    return result


def make_child(parent_dir: Path, problem: str, *, settings: Settings, modify_settings: Settings, test_cmd: str,
               work: Path, budget: Any, smoke_task: Task, cancel: CancelToken) -> tuple[str | None, int, float]:
    """Steps 3-4 (the sandboxed part): the parent edits its code, the child is checked and admitted.

    Writes the child's files to `work/child`; returns (why it is invalid or None, tokens, cost).
    Plain data in and out, so it runs in a thread or as a Ray task (`selfcoder.executors`)."""
    result = modify(parent_dir, problem, settings=modify_settings, test_cmd=test_cmd, work=work, budget=budget,
                    cancel=cancel)
    tokens = (result.usage or {}).get("total_tokens", 0)
    cost = (result.usage or {}).get("cost_usd", 0.0)
    child_dir = work / "child"
    if not result.patch.strip():
        reason = f"the parent made no change ({result.agent_status}: {result.message[:200]})"
    else:
        reason = patch_paths_problem(result.patch) or tamper_problem(result.patch, parent_dir)
    if reason is None:
        try:
            apply_child(parent_dir, result.patch, child_dir)
        except SelfcoderError as e:
            reason = str(e)
    if reason is None:
        reason = self_check(child_dir, settings, test_cmd, cancel)
    if reason is None:
        reason, smoke_usage = smoke(child_dir, smoke_task, settings, work / "smoke", budget, cancel)
        tokens += (smoke_usage or {}).get("total_tokens", 0)
        cost += (smoke_usage or {}).get("cost_usd", 0.0)
    return reason, tokens, cost


def write_origin(work: Path, origin: dict) -> None:
    (work / "origin.json").write_text(json.dumps(origin, indent=2))
