"""The agent's loop: one model reply per step, the reply's actions carried out in order.

Read top-down. run() is the loop: check the limits, ask the model, act on the reply, report
the step, then stop (submitted), start the conversation again (policies/stall_restart.py) or send
back what happened. act() is one reply: edits, commands, SUBMIT, then the tests after an edit
(actions.py).
The small-model heuristics are the named policies in policies/, one file each (config.json "policies").
"""

import time

import context
import fast_path
from actions import ReplyActions
from events import emit
from policies import Policies
from shell import run_shell
from texts import fill, tail, truncate

OMITTED = "(older message omitted to save space)"


class Agent(ReplyActions):
    """One run on one task: the limits, the counts (steps, tokens), the policies' state."""

    def __init__(self, task, config, prompts, llm, root):
        self.task, self.config, self.prompts, self.llm, self.root = task, config, prompts, llm, root
        self.policies = Policies(config.get("policies"))
        given = {k: v for k, v in (task.get("limits") or {}).items() if v is not None}
        limits = dict(config["default_limits"], **given)
        self.max_steps, self.max_tokens = int(limits["max_steps"]), int(limits["max_tokens"])
        self.deadline = time.monotonic() + float(limits["time_limit_s"])
        self.test_cmd = task.get("test_cmd") or None
        self.steps = self.tokens = 0
        self.temperature = float((task.get("sampling") or {}).get("temperature", config["temperature"]))
        self.focus = []  # files shown whole in the first prompt
        self.tests_failed_at_start = False  # as of the latest first prompt
        self.changed = False  # some edit has worked
        self.fast = fast_path.FastPath(self)  # localise first (policy localize_first)

    def time_left(self):
        return self.deadline - time.monotonic()

    # -- the loop --------------------------------------------------------------------------

    def run(self):
        """Loop until submitted or a limit is hit; return (status, message)."""
        done = self.fast.run()  # the localise-first fast path; None: the loop goes on
        if done:
            return done
        messages, reply = self.fresh_conversation(), self.fast.leftover
        if reply:  # the fast path's last reply had no working edit (a command, say): carried out first
            messages.append({"role": "assistant", "content": reply})
        while True:
            if reply is None:
                stop = self.limit_reached()
                if stop:
                    return stop
                reply = self.ask_model(messages)
            outcome = self.act(reply)
            restart = self.policies.stall_restart.due(outcome.progress())
            if self.policies.same_reply_note.repeated(reply) and not outcome.submit:
                outcome.notes.insert(0, self.prompts["same_reply"])
            emit(type="step", n=self.steps, action=outcome.action(), detail=outcome.detail()[:200],
                 tokens=self.tokens)
            if outcome.submit:
                return "submitted", outcome.detail()
            if restart:
                messages = self.restart()
            else:
                self.send_back(messages, outcome)
            reply = None

    def limit_reached(self):
        """(status, message) when a limit stops the run, else None."""
        if self.steps >= self.max_steps:
            return "step_limit", "not submitted after %d steps" % self.steps
        if self.time_left() <= 0:
            return "time_limit", "not submitted after %d steps" % self.steps
        if self.tokens >= self.max_tokens:
            return "token_limit", "%d tokens used (limit %d)" % (self.tokens, self.max_tokens)
        return None

    def ask_model(self, messages):
        """One model call (one step); the reply is added to `messages` and returned."""
        deadline = min(self.deadline, time.monotonic() + self.config["request_timeout_s"])
        reply, used = self.llm.chat(messages, deadline, self.temperature)
        self.steps, self.tokens = self.steps + 1, self.tokens + used
        messages.append({"role": "assistant", "content": reply})
        return reply

    def fresh_conversation(self):
        return [{"role": "system", "content": self.prompts["system"]},
                {"role": "user", "content": self.first_prompt()}]

    def restart(self):
        """Policy stall_restart: a fresh conversation at a higher temperature."""
        self.policies.same_reply_note.forget()
        self.temperature = self.policies.stall_restart.raised(self.temperature)
        messages = self.fresh_conversation()
        emit(type="step", n=self.steps, action="restart",
             detail="fresh conversation at temperature %.1f" % self.temperature, tokens=self.tokens)
        return messages

    def send_back(self, messages, outcome):
        """Add what the reply did (and the steps left) as the next user message."""
        footer = fill(self.prompts["next"], steps_left=self.max_steps - self.steps)
        messages.append({"role": "user", "content": outcome.observation() + "\n\n" + footer})
        self.trim(messages)

    def trim(self, messages):
        """Blank the oldest exchanges (never the task or the latest reply) to fit the history budget."""
        total = sum(len(m["content"]) for m in messages)
        for m in messages[2:-2]:
            if total <= self.config["history_max_chars"]:
                break
            total -= len(m["content"]) - len(OMITTED)
            m["content"] = OMITTED

    # -- the first prompt ------------------------------------------------------------------

    def first_prompt(self):
        """The task message: problem, repo map, relevant files, and the tests' current output."""
        cfg, problem = self.config, self.task.get("problem_statement") or ""
        test_output = self.tests_at_start()
        files = context.list_files(self.root)
        paths = context.relevant_files(self.root, files, self.task, test_output, cfg["max_files"])
        paths = self.fast.paths + [p for p in paths if p not in self.fast.paths]  # localised files first
        paths = paths[:cfg["max_files"]]
        shown, self.focus = context.show_files(self.root, paths, context.identifiers(problem),
                                               cfg["files_max_chars"])
        return fill(self.prompts["instance"], instance_id=self.task.get("instance_id", ""),
                    problem_statement=truncate(problem.strip(), cfg["problem_max_chars"]),
                    repo_map=truncate((self.task.get("repo_map") or "(none)").strip(), cfg["repo_map_max_chars"]),
                    files=shown or "(none found; look around with shell commands)",
                    test_cmd=self.test_cmd or "(none)", test_output=test_output)

    def tests_at_start(self):
        """Run the tests before the model's next try; their output for the first prompt."""
        if not self.test_cmd:
            return "(not run: no test command was given; look for the tests yourself)"
        code, out = self.run_tests() if not self.fast.test_run else self.fast.test_run
        self.fast.test_run = None  # the fast path's last run shows the workspace as it is now
        out = tail(out.strip(), self.config["test_output_max_chars"])
        self.tests_failed_at_start = code != 0
        return "exit code %d\n%s" % (code, out)

    def run_tests(self):
        limit = self.config["test_output_max_chars"]
        code, out = run_shell(self.test_cmd, self.root, min(self.config["test_timeout_s"], self.time_left()),
                              4 * limit)
        return code, tail(out.strip(), limit)
