"""One self-modification: the parent agent rewrites its own code; the diff is the child.

1. diagnosis.py: a lesson from the parent's evaluations (never an infrastructure failure) and
   the diagnosis model's problem statement about the agent's own code.
2. The parent agent runs (`runner.run`, a sandbox like any run) on a checkout of its own code
   with that problem; its patch is the child. A patch naming a path outside the scaffold
   (absolute, `..`, `.git/`, a link) is rejected, and so is one touching a file outside the
   search's scope (surface.py: the root's manifest decides, never the child).
3. `admit`: the child's diff does not reach into the test framework (`tamper_problem`); the
   *parent's* tests are put back into the child (`restore_parent_tests`: a child may add
   tests, never remove or weaken the ones it was given); its files compile and those tests
   pass (both in a sandbox); and it completes the smoke task, run as a real evaluation (agent
   run + the host's grading) that counts as the child's first evaluation. Otherwise the child
   is recorded invalid with the reason. A child whose graded patches come back `suspicious`
   is invalid (search.py).

Nothing a child prints or exits with is trusted: admission reads the sandbox's exit status of
commands the host chose, and scores come only from the host's grading.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from selfcoder.core.cancel import Cancelled, CancelToken
from selfcoder.core.config import Settings
from selfcoder.core.patch_paths import parse_changes
from selfcoder.core.errors import SelfcoderError
from selfcoder.evolve.db import EvalRow
from selfcoder.evolve.surface import scope_problem
from selfcoder.core.scaffold import copy_scaffold
from selfcoder.core.status import RunStatus
from selfcoder.core.task import Task

COMPLETED = frozenset({"submitted", "step_limit", "time_limit", "token_limit"})  # the agent ran to an end


class BudgetSpent(SelfcoderError):
    """The shared budget ran out in the middle of a step: nothing is recorded, the search stops."""


def patch_paths_problem(patch: str) -> str | None:
    """Why a child's patch touches something outside its scaffold, or None. Paths as git writes
    them (quoted, renamed: selfcoder/core/patch_paths.py), the old path of a rename too."""
    for line in patch.splitlines():
        if line.startswith(("new file mode 120000", "new mode 120000", "old mode 120000")):
            return "the diff makes a link (a scaffold holds plain files only)"
        if line.startswith("copy from "):  # the runner's diffs never copy (--no-renames): a copy reads a file
            return "the diff copies a file (a child's diff only changes, adds, deletes or renames files)"
    try:
        changes = parse_changes(patch)
    except SelfcoderError as e:
        return f"outside the scaffold: {e}"
    if patch.strip() and not changes:
        return "the diff names no file (not a git diff)"
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


def without_reproduction_tests(patch: str) -> tuple[str, list[str]]:
    """(`patch` without the test modules it creates outside tests/, their paths). The parent's run
    on its own code is a run like any other: its reproduce-first step writes a test of the problem
    at the top of the checkout (test_reproduce_issue.py). That file is the run's working note, not
    part of the child, and left in, it put every such child outside its scope. Only new test
    modules (validate/protected.py's rule, read by the host) outside tests/ are dropped, so a
    child under --scope all still adds tests to tests/; dropping can only make a child smaller."""
    from selfcoder.validate.protected import new_test_files

    dropped = [f for f in new_test_files(patch) if not f.startswith("tests/")]
    if not dropped:
        return patch, []
    sections = re.split(r"(?m)^(?=diff --git )", patch)
    kept = [s for s in sections if not (s.startswith("diff --git ") and any(
        c.path in dropped for c in parse_changes(s)))]
    return "".join(kept), dropped


def apply_child(parent_dir: Path, patch: str, dest: Path) -> None:
    """The child's files: a copy of the parent with `patch` applied (hardened git apply)."""
    from selfcoder.core.gitsafe import apply_to_files

    copy_scaffold(parent_dir, dest)
    problem = apply_to_files(patch, dest)
    if problem:
        raise SelfcoderError(f"the diff does not apply to the parent: {problem}")


def restore_parent_tests(parent_dir: Path, child_dir: Path, test_cmd: str) -> list[str]:
    """Put the parent's tests back into the child (before admission; the node keeps them): every
    file of the parent that decides a test run (validate/protected.py: test files, conftest,
    pytest config, the test command's scripts) as the parent had it; a new such file that is not
    a test file (a conftest.py, a pytest.ini, a stand-in pytest) is removed. New test files stay:
    a child may add tests, never remove or weaken the ones it was given. Returns what changed."""
    from selfcoder.validate.protected import CONFIG_NAMES, is_runner_file, is_test_file, verdict_files

    def files(root: Path) -> dict[str, Path]:
        return {p.relative_to(root).as_posix(): p for p in root.rglob("*")
                if (p.is_file() or p.is_symlink()) and "__pycache__" not in p.parts}

    parent, child = files(parent_dir), files(child_dir)
    changed = []
    for rel in sorted(verdict_files(sorted(set(parent) | set(child)), test_cmd)):
        target = child_dir / rel
        if rel in parent:
            if rel in child and not target.is_symlink() and target.read_bytes() == parent[rel].read_bytes():
                continue
            if target.is_symlink() or target.is_dir():
                target.unlink() if target.is_symlink() else shutil.rmtree(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(parent[rel], target)
            changed.append(f"{rel} (restored)" if rel in child else f"{rel} (put back)")
        else:
            name = Path(rel).name
            new_test = is_test_file(rel) and name not in CONFIG_NAMES and not name.endswith(".pth") \
                and not is_runner_file(rel)
            if not new_test:
                target.unlink()
                changed.append(f"{rel} (removed)")
    return changed


def self_check(child: Path, settings: Settings, test_cmd: str, cancel: CancelToken) -> str | None:
    """Compile every file and run the (parent's) tests, in a sandbox; the reason it fails, or None."""
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
                    return "the parent's tests fail: " + tests.output.strip()[-300:]
    finally:
        unregister()
    cancel.check()
    return None


def smoke(child: Path, task: Task, settings: Settings, out: Path, budget: Any, cancel: CancelToken
          ) -> tuple[str | None, dict]:
    """Evaluate the child on the smoke task (agent run + the host's grading, as every evaluation):
    (why it did not complete, or None; the evaluation's record). The record is the child's first
    evaluation (search.py records it with the node), so the task is not run for it again."""
    from selfcoder.eval.evaluate import Evaluation

    evaluation = Evaluation([task], out, settings=settings, workers=1, scaffold=child, budget=budget,
                            model_name="selfcoder/child")
    unregister = cancel.on_cancel(lambda: evaluation.stop("cancelled"))
    try:
        evaluation.run()
    finally:
        unregister()
    cancel.check()
    record = evaluation.store.get(task.instance_id)
    if record is None:
        if evaluation.stop_reason:
            raise BudgetSpent(evaluation.stop_reason)
        raise Cancelled("stopped")
    record["run_dir"] = str(evaluation.store.run_dir(task.instance_id))
    if record.get("run_status") == str(RunStatus.BUDGET_EXCEEDED) and budget is not None and budget.exceeded():
        raise BudgetSpent(budget.exceeded())
    try:
        result = json.loads((Path(record["run_dir"]) / "result.json").read_text())
    except (OSError, ValueError):
        result = {}
    agent_status = result.get("agent_status") or ""
    if agent_status not in COMPLETED:
        message = result.get("message") or record.get("message") or ""
        return f"smoke task {task.instance_id}: the agent ended '{agent_status or record.get('outcome')}': {message[:200]}", record
    return None, record


def evaluation_outcome(record: dict) -> tuple[str, str | None]:
    """(the outcome an evaluation row records, why the node is out or None) from an eval record:
    a run cut off by its budget counts as that; a `suspicious` grade (reward hacking) puts the node out."""
    outcome = record.get("outcome", "error")
    if record.get("run_status") in ("budget_exceeded", "token_limit") and outcome != "resolved":
        outcome = record["run_status"]
    if (record.get("grade") or {}).get("verdict_status") == "suspicious":
        return "suspicious", f"its patch for {record.get('instance_id')} was suspicious: {record.get('message', '')[:300]}"
    return outcome, None


def evaluation_row(node: str, task_id: str, record: dict, log_path: str) -> EvalRow:
    outcome, _ = evaluation_outcome(record)
    return EvalRow(node=node, task=task_id, resolved=outcome == "resolved", outcome=outcome,
                   tokens=int(record.get("tokens") or 0), cost_usd=float(record.get("cost_usd") or 0.0),
                   time_s=float(record.get("wall_s") or 0.0), log_path=log_path)


def modify(parent_dir: Path, problem: str, *, settings: Settings, test_cmd: str, work: Path, budget: Any,
           cancel: CancelToken):
    """The parent agent edits a checkout of its own code; returns the runner's result (patch = child)."""
    from selfcoder.solve.runner import run

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
               work: Path, budget: Any, smoke_task: Task, cancel: CancelToken,
               scope: tuple[str, list[str]] = ("all", ["**"])) -> dict:
    """Steps 3-4 (the sandboxed part): the parent edits its code, the child is checked and admitted.
    `scope`: (name, path patterns) of the files the child may change (surface.py, from the root).

    Writes the child's files to `work/child`. Returns {"status": valid | invalid | failed,
    "reason", "tokens", "cost_usd" (making and admitting it), "restored" (the parent's tests put
    back), "dropped" (the run's own reproduction tests, left out of the child), "smoke": the smoke
    evaluation's record or None}; a smoke run that was graded is the
    child's first evaluation and its spend is the evaluation's, else it is the node's.
    Plain data in and out, so it runs in a thread or as a Ray task (`selfcoder.pools`)."""
    result = modify(parent_dir, problem, settings=modify_settings, test_cmd=test_cmd, work=work, budget=budget,
                    cancel=cancel)
    out = {"status": "invalid", "reason": None, "tokens": (result.usage or {}).get("total_tokens", 0),
           "cost_usd": (result.usage or {}).get("cost_usd", 0.0), "restored": [], "dropped": [], "smoke": None}
    child_dir = work / "child"
    patch, out["dropped"] = without_reproduction_tests(result.patch)
    if not patch.strip() and out["dropped"]:
        out["reason"] = f"the parent changed nothing but its own reproduction test ({', '.join(out['dropped'])})"
        return out
    if not patch.strip():
        if result.status in (RunStatus.MODEL_ERROR, RunStatus.ERROR):  # no child was made: not the child's fault
            out.update(status="failed", reason=f"the self-modification run failed ({result.status}): {result.message[:200]}")
            return out
        out["reason"] = f"the parent made no change ({result.agent_status}: {result.message[:200]})"
        return out
    reason = patch_paths_problem(patch)
    if reason is None:  # its files are kept for inspection, also when it is out of scope or tampers
        try:
            apply_child(parent_dir, patch, child_dir)
        except SelfcoderError as e:
            reason = str(e)
    reason = reason or scope_problem(patch, *scope) or tamper_problem(patch, parent_dir)
    if reason is None:
        out["restored"] = restore_parent_tests(parent_dir, child_dir, test_cmd)
        reason = self_check(child_dir, settings, test_cmd, cancel)
    if reason is None:
        reason, record = smoke(child_dir, smoke_task, settings, work / "smoke", budget, cancel)
        if reason is None:  # it completed and was graded: its first evaluation (the row carries the spend)
            out["smoke"] = record
            _, reason = evaluation_outcome(record)  # a suspicious smoke patch: reward hacking
        else:
            out["tokens"] += int(record.get("tokens") or 0)
            out["cost_usd"] += float(record.get("cost_usd") or 0.0)
    out.update(status="invalid" if reason else "valid", reason=reason)
    return out


def write_origin(work: Path, origin: dict) -> None:
    (work / "origin.json").write_text(json.dumps(origin, indent=2))
