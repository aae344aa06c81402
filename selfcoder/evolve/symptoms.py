"""What the host measured in a failed run, and which of the agent's files each finding is about.

Why: asked to abstract from a failed run to a change in the agent's own code, a 1.5B diagnosis
model writes a fix for the *task* instead ("the function luhn_valid in cards.py should ...";
measured twice, `bench/self_improvement.py`), and the self-modification run then has nothing of
its own code to change. The host can read facts off the run that a small model cannot infer:
it ran out of time waiting for the model (its prompts were long), its replies could not be
read, its reproduction test did not run, its edits did not apply, its fix was wrong. Each
finding names the scaffold files a change would go to (settings, prompts: the surface a small
model edits); the expansion picks one finding and one file in scope, shows that file whole and
asks for one change to it. The facts are counts and excerpts from the run's own records, so a
resumed search reads the same ones.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from selfcoder.evolve.run_log import RunLog, stable, trim


@dataclass(frozen=True)
class Symptom:
    name: str
    fact: str  # one or two sentences, measured from the run
    files: tuple[str, ...]  # the scaffold files a change for it would go to, the likeliest first


def _prompt_chars(event: dict) -> int:
    return sum(len(m.get("content") or "") for m in event.get("messages") or [] if isinstance(m, dict)
               and isinstance(m.get("content"), str))


def _of(events: list[dict], kind: str, status: str | None = None) -> list[dict]:
    """The events of one type (and status, when given), in order."""
    return [e for e in events if e.get("type") == kind and (status is None or e.get("status") == status)]


def _detail(event: dict) -> str:
    """An event's detail as the diagnosis may read it: text, cut, freed of what differs between runs."""
    return trim(stable(str(event.get("detail") or "")), 300)


def symptoms(log: RunLog) -> list[Symptom]:
    """The findings of one failed run, in a fixed order (the likeliest cause first)."""
    events, found = log.events, []
    exit_event = next((e for e in reversed(events) if e.get("type") == "agent_exit" and "status" in e), {})
    status, message = str(exit_event.get("status") or ""), str(exit_event.get("message") or "")
    requests, steps = _of(events, "llm_request"), _of(events, "agent_step")
    if status == "time_limit" and "waiting for the model" in message and requests:
        longest = max(_prompt_chars(e) for e in requests)
        found.append(Symptom("slow_prompts", (
            f"The run ran out of time while waiting for the model, after {len(requests)} model calls; its longest "
            f"prompt was {longest:,} characters. On a small local model every prompt character costs time: "
            "shorter prompts (fewer or shorter files, less test output) leave time for more steps."),
            ("config.json", "prompts/system.txt", "prompts/instance.txt")))
    unreadable = [e for e in steps if "format_error" in str(e.get("action") or "").split("+")]
    if unreadable and len(unreadable) * 4 >= len(steps):
        example = next((str(r.get("text") or "") for r in _of(events, "llm_response")
                        if str(r.get("text") or "").strip()), "")
        found.append(Symptom("format_errors", (
            f"{len(unreadable)} of the run's {len(steps)} steps were replies the agent could not read (format "
            f"errors). A reply of the model, start: {json.dumps(trim(stable(example), 300))}"),
            ("prompts/format_error.txt", "prompts/system.txt", "config.json")))
    reproduce = _of(events, "agent_reproduce", "not_reproduced")
    if reproduce:
        found.append(Symptom("reproduction_failed", (
            f"The agent's reproduction test failed to show the problem {len(reproduce)} times: "
            f"{_detail(reproduce[-1])}"),
            ("prompts/reproduce.txt", "prompts/reproduce_retry.txt", "config.json")))
    no_edit = _of(events, "agent_localize", "fallback")
    if no_edit:
        found.append(Symptom("edit_not_made", (
            f"The agent showed the model the functions to fix, and the reply held no working edit: "
            f"{_detail(no_edit[0])}"),
            ("prompts/function_fix.txt", "prompts/function_retry.txt", "config.json")))
    if status == "step_limit":
        found.append(Symptom("step_limit",
                             f"The run used all its steps without submitting: {trim(stable(message), 200)}",
                             ("config.json", "prompts/next.txt")))
    patch = log.patch()
    if patch != "(empty)" and (log.record.get("grade") or {}).get("outcome") not in (None, "resolved"):
        found.append(Symptom("wrong_fix", (
            "The agent's patch was graded and the tests the fix should make pass still fail: the fix was wrong."),
            ("prompts/function_fix.txt", "prompts/system.txt", "prompts/tests.txt")))
    return found


def pick(found: list[Symptom], in_scope: list[str], rng: random.Random) -> tuple[Symptom, str] | None:
    """One finding and the file to change for it: among the findings with a file in scope, one at
    random; its likeliest file in scope two times in three, else another (so that expansions of
    one parent on one finding try more than one file). None when no finding has one."""
    usable = [(s, [f for f in s.files if f in in_scope]) for s in found]
    usable = [(s, files) for s, files in usable if files]
    if not usable:
        return None
    symptom, files = rng.choice(usable)
    return symptom, files[0] if len(files) == 1 or rng.random() < 2 / 3 else rng.choice(files[1:])
