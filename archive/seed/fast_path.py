"""Localise first, then one small edit: the fast path tried before the free loop (policy
`localize_first`).

Why: a 1.5B model is weak at driving a long loop but good at rewriting a function it is shown,
and tests are cheap. So: run the tests; when they fail, pick the few functions they point at
(localize.py); show the problem, the failing output and those functions; ask for the corrected
whole function (prompts/function_fix.txt) and put it in place (function_edit.py; a reply in the
loop's edit formats is accepted too). Tests pass -> submitted. Still failing -> the change stays
if it broke no other test (else it is undone) and the model gets one retry with the new output
(prompts/function_retry.txt). Attempts used up -> the loop goes on with the steps left, showing
the localised files first. When the tests pass at the start there is nothing to localise from:
reproduce.py (policy `reproduce_first`) first asks for a test that fails, and its failure is
used. A reply with no edit that works (a command, prose, a function that does not parse) is not
wasted: the loop carries it out as its own first reply (`leftover`), with the reason it was no
function edit. Every model call is a step.
"""

import os
import textwrap

import localize
import reproduce
from edits import ActionError, apply_edit, resolve
from events import emit
from function_edit import replace_functions, restore
from outcome import Outcome
from reply_parser import parse_reply
from shell import run_shell
from texts import fill, tail, truncate


def show(root, target):
    """A function as the model sees it: where it is, then its source in a python block."""
    with open(os.path.join(root, target["path"]), encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")[target["start"] - 1:target["end"]]
    owner = target["qualname"].rsplit(".", 1)[0] if "." in target["qualname"] else ""
    return "%s (%slines %d-%d):\n```python\n%s\n```" % (
        target["path"], "in %s, " % owner if owner else "", target["start"], target["end"],
        textwrap.dedent("\n".join(lines)).rstrip())


def others(root, targets):
    """One line per other function of the targets' files, so that the model may call them."""
    shown, lines = {(t["path"], t["qualname"]) for t in targets}, []
    for path in sorted({t["path"] for t in targets}):
        with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
            text = f.read().split("\n")
        defs = [d for d in localize.functions(root, path) if (path, d["qualname"]) not in shown]
        lines += ["%s line %d: %s" % (path, d["def"], text[d["def"] - 1].strip()) for d in defs[:15]]
    return "\n\nAlso in these files (not shown):\n" + "\n".join(lines) if lines else ""


class FastPath:
    """One run's fast path; after it, `test_run` and `paths` tell the loop what was learned."""

    def __init__(self, agent):
        self.agent, self.policy = agent, agent.policies.localize_first
        self.paths = []  # files of the localised functions: the loop shows them first
        self.test_run = None  # (exit code, output) of the tests as the workspace is now
        self.leftover = None  # a reply with no working edit, for the loop to carry out
        self.targets = []  # the localised functions: the loop takes whole-function replies for them too

    def tests(self):
        a = self.agent
        return run_shell(a.test_cmd, a.root, min(a.config["test_timeout_s"], a.time_left()), 40000)

    def run(self):
        """(status, message) when the fast path ends the run, else None: the loop goes on."""
        a, p = self.agent, self.policy
        if not p.enabled or not a.test_cmd:
            return None
        code, out = self.test_run = self.tests()
        if code == 0 and a.policies.reproduce_first.enabled:  # nothing fails: write a test that does
            stop, found, self.leftover = reproduce.Reproduce(a).run(out)
            if stop:
                return stop
            code, out = self.test_run = found or (code, out)
        targets = localize.candidates(a.root, a.task, out, p.max_functions, p.max_function_lines) if code else []
        self.paths = sorted({t["path"] for t in targets}, key=[t["path"] for t in targets].index)
        why = "; ".join("%s:%s (%s)" % (t["path"], t["qualname"], t["why"]) for t in targets)
        emit(type="localize", status="found" if targets else "skipped",
             functions=["%s:%s" % (t["path"], t["qualname"]) for t in targets],
             detail=(why or ("the tests pass before any change" if code == 0 else "no function found"))[:200])
        if not targets:
            return None
        self.targets = targets
        failing = set(localize.failing_ids(out))
        problem = truncate((a.task.get("problem_statement") or "").strip(), a.config["problem_max_chars"])
        messages = [{"role": "system", "content": a.prompts["system"]},
                    {"role": "user", "content": fill(
                        a.prompts["function_fix"], problem_statement=problem, test_cmd=a.test_cmd, code=code,
                        test_output=tail(out.strip(), p.test_output_chars),
                        functions="\n\n".join(show(a.root, t) for t in targets) + others(a.root, targets))}]
        why = "%d attempts made" % p.attempts
        for _ in range(p.attempts):
            stop = a.limit_reached()
            if stop:
                return stop
            reply = a.ask_model(messages)
            outcome, result = self.attempt(reply, targets, failing)
            if outcome is None:
                self.leftover, why = reply, "the reply holds no working edit (%s): the loop carries it out" % result
                break
            failing = result
            emit(type="step", n=a.steps, action=outcome.action(), detail=outcome.detail()[:200], tokens=a.tokens)
            if outcome.submit:
                return "submitted", outcome.detail()
            messages.append({"role": "user", "content": outcome.observation()})
            targets = self.relocate(targets)
        emit(type="localize", status="fallback", functions=[],
             detail=("%s; %d steps left" % (why, a.max_steps - a.steps))[:200])
        return None

    def attempt(self, reply, targets, failing):
        """Put the reply's edit in place and run the tests: (Outcome, failing test ids now), or
        (None, why the reply has no function edit) when no edit in it worked."""
        a, outcome = self.agent, Outcome()
        try:
            report, originals = replace_functions(a.root, targets, reply)
            outcome.add("function_edit", report, report)
        except ActionError as e:
            originals = self.loop_edits(reply, outcome)
            if not originals:
                return None, str(e)
        outcome.edited = True
        code, out = self.tests()
        new = set(localize.failing_ids(out))
        note = fill(a.prompts["tests"], test_cmd=a.test_cmd, code=code,
                    output=tail(out.strip(), self.policy.test_output_chars))
        if code == 0:
            self.test_run, outcome.submit = (code, out), True
            outcome.add("submit", note, "tests pass now: submitted")
            return outcome, new
        broke = sorted(new - failing) if new else ["(the output names no failing test)"]
        if broke:
            restore(a.root, originals)
            verdict = "Your change was undone: it made other tests fail (%s)." % ", ".join(broke)[:300]
        else:
            self.test_run, a.changed, failing = (code, out), True, new
            verdict = "Your change was kept, but tests still fail."
        outcome.notes += [note, fill(a.prompts["function_retry"], verdict=verdict)]
        outcome.details.append("tests: exit %d, change %s" % (code, "undone" if broke else "kept"))
        return outcome, failing

    def loop_edits(self, reply, outcome):
        """Carry out a reply in the loop's edit formats (SEARCH/REPLACE, whole file); return
        {path: text before, None for a new file} of the files changed."""
        a, originals = self.agent, {}
        for act in [x for x in parse_reply(reply, a.root, [], a.policies) if x["kind"] in ("edit", "write")]:
            try:
                full = resolve(a.root, act["path"])
                before = None
                if os.path.isfile(full):
                    with open(full, encoding="utf-8", errors="surrogateescape", newline="") as f:
                        before = f.read()
                note = apply_edit(a.root, act, a.policies)
                originals.setdefault(act["path"], before)
            except (ActionError, OSError) as e:
                note = "Edit of %s FAILED: %s" % (act["path"], e)
            outcome.add("edit", note, note.split("\n")[0])
        return originals

    def function_edit(self, reply, focus):
        """For the loop: a reply that is just a corrected function (a habit the fast path teaches)
        replaces the localised function, or one of a file shown whole, of that name; returns the
        edit's report, or None when the reply's code defines none of them."""
        targets, names = [], set()
        for t in self.relocate(self.targets) + [d for p in focus for d in localize.functions(self.agent.root, p)]:
            if t["name"] not in names:
                targets.append(t)
                names.add(t["name"])
        try:
            return replace_functions(self.agent.root, targets, reply)[0] if targets else None
        except ActionError:
            return None

    def relocate(self, targets):
        """The targets' line ranges as the files are now (a kept change moves them)."""
        now = []
        for t in targets:
            found = [d for d in localize.functions(self.agent.root, t["path"]) if d["qualname"] == t["qualname"]]
            now.append(dict(t, **{k: found[0][k] for k in ("start", "def", "end")}) if found else t)
        return now
