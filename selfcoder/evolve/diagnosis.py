"""What the parent should improve: a lesson chosen from its evaluations, and the diagnosis prompt.

`pick_target` chooses, as DGM does, a task the parent failed — preferring empty patches and
token overflows — and never a run that failed for a reason outside the agent's code (the model
server, the sandbox, the budget, a grading that could not run: run_log.RunLog.infra_failure):
such a run teaches nothing about the agent and would send the search after a ghost. With no
lesson left, the diagnosis is asked for a general improvement and told why.

`diagnose` shows the diagnosis model what DGM shows its own: the task, how the patch was graded
(the target tests that still fail, with their output), the run as readable steps, the patch,
and the agent files the run points to (a traceback's files, the prompts of its actions), then
the files in scope, bounded; and which files may change (surface.py). An empty reply or a
model error is tried again (3 attempts, DGM's diagnose_problem), then `DiagnosisFailed`.

With a finding of the host's about the run (symptoms.py) that points to a file in scope, the
target has a focus: the diagnosis is asked for one change to that file, and the
self-modification is told to change it (`modify_problem`). The `focused` view shows only the
finding and that file: a 1.5B model shown the whole failed run writes a fix for the task.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from selfcoder.core.config import Settings
from selfcoder.core.errors import SelfcoderError
from selfcoder.evolve import symptoms
from selfcoder.evolve.db import EvalRow
from selfcoder.evolve.run_log import RunLog, trim
from selfcoder.core.task import Task

DIAGNOSIS_SYSTEM = (
    "You improve a coding agent. The agent is a small Python program (its loop, prompts and tools). "
    "You are shown a task it failed: how its patch was graded, what it did step by step, its patch, and "
    "the agent's own files that matter. Find the weakness in the AGENT'S OWN CODE (not in the task's "
    "repository) that caused the failure, and write a problem statement for a developer who will "
    "change the agent's code: which file, what to change, and why. Answer with the problem statement only.")
FOCUSED_SYSTEM = ("You improve a coding agent by changing one of its own files (a setting, a prompt or a policy). "
                  "Answer with the change to that file only.")
DIAGNOSIS_ATTEMPTS = 3  # DGM's diagnose_problem: max_attempts=3
FILES_CHARS = 12000  # the agent files shown, all together
SPECIAL = {"empty_patch": "empty_patch", "token_limit": "overflow"}  # DGM's special cases


class DiagnosisFailed(SelfcoderError):
    """Every attempt at a diagnosis failed; `usage` is what they used (the expansion's row gets it)."""

    def __init__(self, message: str, usage: dict):
        super().__init__(message)
        self.usage = usage


@dataclass
class Target:
    task: str | None
    kind: str  # failed | empty_patch | overflow | explore
    log: str = ""  # the run as the diagnosis reads it (verdict, steps, patch)
    files: list[str] = field(default_factory=list)  # the agent files the run points to
    focus: str | None = None  # the file in scope the change goes to (symptoms.py), when the host found one
    fact: str = ""  # what the host measured in the run that points there


def pick_target(evals: list[EvalRow], rng: random.Random, agent_files: list[str] = (),
                in_scope: list[str] = ()) -> Target:
    """A failed evaluation of the parent that is a lesson about its code, preferring empty patches
    and overflows; `explore` when there is none. `agent_files`: the parent's files (to name);
    `in_scope`: the files a child may change — a finding of the host's about the run that points
    to one of them (symptoms.py) becomes the target's focus."""
    if not evals:  # the search expands only nodes with finished results: never here
        raise SelfcoderError("a node without finished evaluations cannot be diagnosed")
    lessons, infra = [], []
    for e in (e for e in evals if not e.resolved):
        log = RunLog.read(e.log_path) if e.log_path else None
        why = log.infra_failure() if log is not None else "no record of the run"
        (infra if why else lessons).append((e, log, why))
    if not lessons:
        solved = [e.task for e in evals if e.resolved]
        text = (f"The agent resolved {len(solved)} of the {len(evals)} tasks it has been evaluated on"
                + (f" ({', '.join(solved[:10])}{', ...' if len(solved) > 10 else ''})" if solved else "") + ".")
        if infra:
            text += (f" The other {len(infra)} failed for reasons outside the agent's code, so they are no lesson: "
                     + "; ".join(f"{e.task}: {why}" for e, _, why in infra[:5]) + ".")
        return Target(task=None, kind="explore", log=text)
    special = [x for x in lessons if x[0].outcome in SPECIAL]
    chosen, log, _ = rng.choice(special or lessons)
    kind = SPECIAL.get(chosen.outcome, "failed")
    text = (f"Grading:\n{log.verdict()}\n\nWhat the agent did, step by step:\n{log.steps()}\n\n"
            f"The agent's patch:\n{log.patch()}")
    found = symptoms.pick(symptoms.symptoms(log), list(in_scope), rng)
    focus, fact = (found[1], found[0].fact) if found else (None, "")
    named = log.agent_files(list(agent_files))
    return Target(task=chosen.task, kind=kind, log=text, files=named, focus=focus, fact=fact)


def shown_files(agent_dir: Path | None, named: list[str], in_scope: list[str], chars: int = FILES_CHARS) -> str:
    """The files the run points to, then the files the child may change (smallest first), each
    whole while they fit in `chars` (a named file that does not fit is cut)."""
    if agent_dir is None:
        return ""
    parts, room = [], chars
    rest = sorted((f for f in in_scope if f not in named and not f.startswith("tests/")),
                  key=lambda f: ((agent_dir / f).stat().st_size if (agent_dir / f).is_file() else 0, f))
    for rel, pointed in [(f, True) for f in named] + [(f, False) for f in rest]:
        try:
            text = (agent_dir / rel).read_text(errors="replace")
        except OSError:
            continue
        if len(text) > room and not (pointed and room > 1000):
            continue
        body = trim(text, room - 100) if len(text) > room else text
        parts.append(f"--- {rel}{' (the run points here)' if pointed else ''} ---\n{body.rstrip()}")
        room -= len(parts[-1]) + 1
    return "\n".join(parts)


VIEWS = ("full", "focused")  # what the diagnosis model is shown (EvolveConfig.diagnosis_view)


def prompt(target: Target, task: Task | None, files_text: str, scope_note: str, view: str = "full") -> str:
    """`full` (DGM's view): the task, the verdict, the steps, the patch, the agent's files, and the
    host's finding when there is one; `focused` (for a small model): the finding and its file only."""
    if target.focus and view == "focused":
        return focused_prompt(target, files_text)
    if target.kind == "explore":
        parts = ["The agent has no failed run to learn from (below: why). Find a general weakness of the agent's "
                 "code that keeps it from resolving more tasks.", target.log]
    else:
        what = {"failed": "did not resolve", "empty_patch": "produced no change for",
                "overflow": "ran out of its token budget on"}[target.kind]
        parts = [f"The agent {what} this task.", f"Task:\n{task.problem_statement if task else '(none)'}", target.log]
    if target.focus:
        parts.append(f"What the host measured in this run: {target.fact}")
    if files_text:
        parts.append(f"The agent's files:\n{files_text}")
    if target.focus:
        parts.append(f"Write the problem statement for ONE change to the agent's file {target.focus} that would help "
                     "with what the host measured: what to change in it and why. Do not fix the task's code: the "
                     "task's repository is not the agent.")
        return "\n\n".join(p for p in parts if p)
    if scope_note:
        parts.append(scope_note)
    parts.append("Write the problem statement for the change to the agent's code.")
    return "\n\n".join(p for p in parts if p)


def focused_prompt(target: Target, files_text: str) -> str:
    """With a host finding: the finding and the one file, nothing of the task's code. Shown the
    task, its patch and its steps, a 1.5B model wrote a fix for the task even when asked for a
    change to a named agent file (measured, bench/self_improvement.py's smoke run)."""
    return "\n\n".join([
        "Below is one file of a coding agent: a program that fixes bugs in other people's code by asking a "
        "language model for edits. You will improve that file.",
        f"What the agent's last failed run showed (measured by the host): {target.fact}",
        f"The agent's file {target.focus}, whole:\n{files_text}",
        f"Write ONE small change to {target.focus} that would help the agent with what the run showed: which "
        f"line or setting of {target.focus} to change, to what, and why, in a few sentences. The task's code is "
        "left out on purpose: write only about the agent's file."])


def modify_problem(target: Target, diagnosed: str, scope_note: str) -> str:
    """The problem statement the parent agent gets to change its own code. With a focus it names
    that file first and alone (the agent shows the files a problem names, and a list of every file
    in scope would crowd it out); the scope the host enforces is unchanged."""
    if not target.focus:
        return f"{diagnosed}\n\n{scope_note}"
    return (f"Change the agent's file {target.focus}.\n\n{diagnosed}\n\nWhat the host measured: {target.fact}\n\n"
            f"Change only {target.focus}: a change to another file makes the new agent invalid.")


def diagnose(target: Target, task: Task | None, settings: Settings, run_dir: Path, budget: Any,
             attempts: int = DIAGNOSIS_ATTEMPTS, *, agent_dir: Path | None = None, in_scope: list[str] = (),
             scope_note: str = "", view: str = "full") -> tuple[str, dict]:
    """(problem statement about the agent's code, usage) from the diagnosis model, on the host.

    An empty reply or a model error (the gateway's own retries spent) is tried again, up to
    `attempts` calls; then `DiagnosisFailed` (with the usage of all of them). One gateway for
    all attempts (a scripted model goes on to its next reply)."""
    from selfcoder.core.errors import BudgetExceeded, ModelError
    from selfcoder.evolve.step import BudgetSpent
    from selfcoder.llm import Gateway, TrajectoryLog
    from selfcoder.llm.budget import Budget

    run_dir.mkdir(parents=True, exist_ok=True)
    focused = bool(target.focus) and view == "focused"
    if focused:  # that file alone, whole: the rest would only draw a small model away from it
        shown = shown_files(agent_dir, [target.focus], [])
    else:  # the focus first, then the files the run points to, then the rest of the scope
        named = [target.focus] if target.focus else []
        shown = shown_files(agent_dir, named + [f for f in target.files if f not in named], list(in_scope))
    user = prompt(target, task, shown, scope_note, view)
    system = FOCUSED_SYSTEM if focused else DIAGNOSIS_SYSTEM
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    gateway = Gateway(settings, run_id=run_dir.name, trajectory=TrajectoryLog(run_dir / "diagnosis.jsonl"),
                      budget=Budget.from_settings(settings.budget, parent=budget))
    why = []
    try:
        for _ in range(max(1, attempts)):
            try:
                reply = gateway.complete(messages)
            except BudgetExceeded as e:  # the money is gone (or this call no longer fits): the search stops
                raise BudgetSpent(str(e)) from None
            except ModelError as e:
                why.append(str(e))
                continue
            problem = reply.text.strip()
            if problem:
                return problem, gateway.usage.to_json()
            why.append("the diagnosis model gave an empty reply")
    finally:
        gateway.close()
    raise DiagnosisFailed(f"diagnosis failed after {len(why)} attempt{'s' if len(why) != 1 else ''}: {why[-1]}",
                          gateway.usage.to_json())
