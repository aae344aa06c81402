"""One model reply carried out: its edits, commands and SUBMIT in order, then the tests after an
edit (the Agent's methods for a reply; agent.py holds the loop around them).

A reply is parsed by reply_parser.py into actions; each kind has its tool: edits.py (SEARCH/REPLACE
and whole-file writes), function_edit.py (a corrected function, through the fast path), shell.py
(commands). The policies (policies/) refuse or accept along the way.
"""

from edits import ActionError, apply_edit
from outcome import Outcome
from reply_parser import parse_reply
from shell import run_shell
from texts import fill


class ReplyActions:
    """Mixed into Agent: needs its root, config, prompts, policies, focus, fast path, test command,
    `changed` and `tests_failed_at_start`, and its run_tests() and time_left()."""

    def act(self, reply):
        """Carry out the reply's actions in order; return its Outcome."""
        acts = parse_reply(reply, self.root, self.focus, self.policies)
        if not any(a["kind"] in ("edit", "write") for a in acts) and self.policies.localize_first.enabled:
            report = self.fast.function_edit(reply, self.focus)  # just a corrected function: put in place
            if report:
                acts = [{"kind": "function", "report": report}] + [a for a in acts if a["kind"] != "error"]
        errors = [a["msg"] for a in acts if a["kind"] == "error"]
        if len(errors) == len(acts):
            return self.format_error(errors)
        outcome, commands = Outcome("Problem in your reply: %s." % e for e in errors), 0
        for a in acts:
            if a["kind"] in ("edit", "write"):
                self.edit(a, outcome)
            elif a["kind"] == "function":
                outcome.add("function_edit", a["report"], a["report"])
                outcome.edited = True
            elif a["kind"] == "bash":
                commands += 1
                self.command(a["cmd"], commands, outcome)
            elif a["kind"] == "submit":
                outcome.submit = True
        if outcome.edited:
            self.after_edit(outcome)
        self.check_submit(outcome)
        return outcome

    def format_error(self, errors):
        """A reply with no usable action: prompts/format_error.txt, with the problem found."""
        problem = "; ".join(errors) or "no action found"
        outcome = Outcome()
        outcome.add("format_error", fill(self.prompts["format_error"], problem=problem,
                                         file=(self.focus or ["the file to fix"])[0]), problem)
        return outcome

    def edit(self, act, outcome):
        try:
            note = apply_edit(self.root, act, self.policies)
            outcome.edited = True
        except ActionError as e:
            note, outcome.failed = "Edit of %s FAILED: %s" % (act["path"], e), True
        outcome.add("edit", note, note.split("\n")[0])

    def command(self, cmd, number, outcome):
        """The reply's command number `number` (counting from 1): run unless refused."""
        if number > self.config["max_commands_per_reply"]:
            outcome.notes.append("Not run (one command per reply, please): %s" % cmd)
            return
        note, kind = self.shell(cmd)
        outcome.add(kind, note, "%s: %s" % (kind, cmd.split("\n")[0]))

    def shell(self, cmd):
        """(note for the model, action kind) for one command: not_shell, repeat or bash."""
        first_line = cmd.split("\n")[0]
        if self.policies.python_as_shell_refusal.refuses(cmd):
            return fill(self.prompts["not_shell"], cmd=first_line), "not_shell"
        times = self.policies.repeat_refusal.times(cmd)
        if self.policies.repeat_refusal.refuses(times):
            return fill(self.prompts["repeat"], cmd=first_line, times=times), "repeat"
        code, out = run_shell(cmd, self.root, min(self.config["command_timeout_s"], self.time_left()),
                              self.config["output_max_chars"])
        return "$ %s\n(exit code %d)\n%s" % (cmd, code, out.rstrip() or "(no output)"), "bash"

    def after_edit(self, outcome):
        """After a reply whose edits (some) worked: forget old commands, run the tests."""
        self.policies.repeat_refusal.forget()
        self.changed = True
        if not self.test_cmd:
            return
        code, out = self.run_tests()
        outcome.notes.append(fill(self.prompts["tests"], test_cmd=self.test_cmd, code=code, output=out))
        if self.policies.auto_submit.applies(self.tests_failed_at_start, code, outcome.failed):
            outcome.submit = True
            outcome.details.append("tests pass now: submitted")

    def check_submit(self, outcome):
        """Apply the submit refusals to a reply that submits; add the submit kind if it stands."""
        if outcome.submit and self.policies.failed_edit_submit_refusal.refuses(outcome.failed):
            outcome.submit = False
            outcome.notes.append("Not submitted, because an edit in this reply failed.")
            outcome.kinds.append("submit_refused")
        elif outcome.submit and self.policies.early_submit_refusal.refuses(self.changed):
            outcome.submit = False
            outcome.notes.append(self.prompts["submit_refused"])
            outcome.kinds.append("submit_refused")
        if outcome.submit:
            outcome.kinds.append("submit")
