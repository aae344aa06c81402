"""Entry point and loop of the selfcoder seed agent (generation 0 of the evolving scaffold).

    python3 /agent/main.py /run/selfcoder/task.json      (cwd: the repository copy)

Before the first model call the task's tests run once, so the first prompt holds the problem,
the relevant files and the failing output: enough for a small model to fix a bug in ONE reply.
One step = one model reply; its actions run in order (actions.py). After a reply that edits
files the tests run again, and when tests that failed before now pass the agent submits by
itself. Progress goes to stdout as `@@selfcoder {json}` lines (README.md). Keep other output
small: the runner's sandbox stops streaming after a cap, and the exit event must get through.
"""

import collections
import json
import os
import signal
import sys
import time
import traceback

import actions
import context
from llm import BudgetExceeded, LLMClient, ModelError

HERE = os.path.dirname(os.path.abspath(__file__))
OMITTED = "(older message omitted to save space)"


def emit(**event):
    print("@@selfcoder " + json.dumps(event), flush=True)


def fill(template, **values):
    """Put values into a template's {placeholders}; other braces stay as they are."""
    for key, value in values.items():
        template = template.replace("{%s}" % key, str(value))
    return template


def tail(text, max_chars):
    return text if len(text) <= max_chars else "[... earlier output omitted ...]\n" + text[-max_chars:]


def load_scaffold_files():
    """(config, prompts): config.json and every prompts/NAME.txt as prompts[NAME]."""
    with open(os.path.join(HERE, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    folder, prompts = os.path.join(HERE, "prompts"), {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".txt"):
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                prompts[name[:-4]] = f.read().strip()
    return config, prompts


class Agent:
    def __init__(self, task, config, prompts, llm, root):
        self.task, self.config, self.prompts, self.llm, self.root = task, config, prompts, llm, root
        given = {k: v for k, v in (task.get("limits") or {}).items() if v is not None}
        limits = dict(config["default_limits"], **given)
        self.max_steps, self.max_tokens = int(limits["max_steps"]), int(limits["max_tokens"])
        self.deadline = time.monotonic() + float(limits["time_limit_s"])
        self.test_cmd = task.get("test_cmd") or None
        self.steps = self.tokens = 0
        self.ran = collections.Counter()  # commands run since the last edit; a 1.5B model repeats `ls`
        self.focus, self.baseline_failed, self.changed, self.submit_refused = [], False, False, False
        self.replies = set()  # measured: a 1.5B model at temperature 0 resends the same reply
        self.edits = self.stalls = 0  # successful edits; replies in a row that changed nothing
        self.temperature = float(config["temperature"])

    def left(self):
        return self.deadline - time.monotonic()

    def run(self):
        """Loop until submitted or a limit is hit; return (status, message)."""
        messages = [{"role": "system", "content": self.prompts["system"]},
                    {"role": "user", "content": self.first_prompt()}]
        while True:
            if self.steps >= self.max_steps:
                return "step_limit", "not submitted after %d steps" % self.steps
            if self.left() <= 0:
                return "time_limit", "not submitted after %d steps" % self.steps
            if self.tokens >= self.max_tokens:
                return "token_limit", "%d tokens used (limit %d)" % (self.tokens, self.max_tokens)
            deadline = min(self.deadline, time.monotonic() + self.config["request_timeout_s"])
            reply, used = self.llm.chat(messages, deadline, self.temperature)
            self.steps, self.tokens = self.steps + 1, self.tokens + used
            messages.append({"role": "assistant", "content": reply})
            edits_before = self.edits
            observation, kinds, detail, submitted = self.act(reply)
            progress = self.edits > edits_before or "bash" in kinds
            self.stalls = 0 if progress else self.stalls + 1
            if " ".join(reply.split()) in self.replies and not submitted:
                observation = self.prompts["same_reply"] + "\n\n" + observation
            self.replies.add(" ".join(reply.split()))
            emit(type="step", n=self.steps, action="+".join(kinds), detail=detail[:200],
                 tokens=self.tokens)
            if submitted:
                return "submitted", detail
            if self.stalls >= self.config["restart_after_stalls"]:
                # measured: a small model that keeps echoing its own replies does better from a
                # clean conversation (the files as they are now) and some randomness than from a
                # longer history of the same mistake
                self.stalls, self.replies = 0, set()
                self.temperature = min(self.config["max_temperature"],
                                       self.temperature + self.config["temperature_step"])
                messages[1:] = [{"role": "user", "content": self.first_prompt()}]
                emit(type="step", n=self.steps, action="restart",
                     detail="fresh conversation at temperature %.1f" % self.temperature, tokens=self.tokens)
                continue
            footer = fill(self.prompts["next"], steps_left=self.max_steps - self.steps)
            messages.append({"role": "user", "content": observation + "\n\n" + footer})
            self.trim(messages)

    def first_prompt(self):
        """The task message: problem, repo map, relevant files, and the tests' current output."""
        cfg, problem = self.config, self.task.get("problem_statement") or ""
        test_output = "(not run: no test command was given; look for the tests yourself)"
        if self.test_cmd:
            code, out = self.run_tests()
            self.baseline_failed = code != 0
            test_output = "exit code %d\n%s" % (code, out)
        files = context.list_files(self.root)
        paths = context.relevant_files(self.root, files, self.task, test_output, cfg["max_files"])
        shown, self.focus = context.show_files(self.root, paths, context.identifiers(problem),
                                               cfg["files_max_chars"])
        return fill(self.prompts["instance"], instance_id=self.task.get("instance_id", ""),
                    problem_statement=actions.truncate(problem.strip(), cfg["problem_max_chars"]),
                    repo_map=actions.truncate((self.task.get("repo_map") or "(none)").strip(),
                                              cfg["repo_map_max_chars"]),
                    files=shown or "(none found; look around with shell commands)",
                    test_cmd=self.test_cmd or "(none)", test_output=test_output)

    def run_tests(self):
        limit = self.config["test_output_max_chars"]
        code, out = actions.run_shell(self.test_cmd, self.root,
                                      min(self.config["test_timeout_s"], self.left()), 4 * limit)
        return code, tail(out.strip(), limit)

    def act(self, reply):
        """Carry out the reply's actions; return (observation, action kinds, detail, submitted)."""
        acts = actions.parse_reply(reply, self.root, self.focus)
        errors = [a["msg"] for a in acts if a["kind"] == "error"]
        if len(errors) == len(acts):
            problem = "; ".join(errors) or "no action found"
            hint = fill(self.prompts["format_error"], problem=problem,
                        file=(self.focus or ["the file to fix"])[0])
            return hint, ["format_error"], problem, False
        notes = ["Problem in your reply: %s." % e for e in errors]
        kinds, details, edited, failed, submit, commands = [], [], False, False, False, 0
        for a in acts:
            if a["kind"] in ("edit", "write"):
                try:
                    note, edited = actions.apply_edit(self.root, a), True
                    self.edits += 1
                except actions.ActionError as e:
                    note, failed = "Edit of %s FAILED: %s" % (a["path"], e), True
                notes.append(note)
                kinds.append("edit")
                details.append(note.split("\n")[0])
            elif a["kind"] == "bash":
                commands += 1
                if commands > self.config["max_commands_per_reply"]:
                    notes.append("Not run (one command per reply, please): %s" % a["cmd"])
                    continue
                note, kind = self.bash(a["cmd"])
                notes.append(note)
                kinds.append(kind)
                details.append("%s: %s" % (kind, a["cmd"].split("\n")[0]))
            elif a["kind"] == "submit":
                submit = True
        if edited:
            self.ran.clear()
            self.changed = True
            if self.test_cmd:
                code, out = self.run_tests()
                notes.append(fill(self.prompts["tests"], test_cmd=self.test_cmd, code=code, output=out))
                if code == 0 and self.baseline_failed and self.config["auto_submit"] and not failed:
                    submit = True
                    details.append("tests pass now: submitted")
        if submit and failed:
            submit = False
            notes.append("Not submitted, because an edit in this reply failed.")
            kinds.append("submit_refused")
        elif submit and not self.changed and not self.submit_refused:
            submit, self.submit_refused = False, True
            notes.append(self.prompts["submit_refused"])
            kinds.append("submit_refused")
        if submit:
            kinds.append("submit")
        kinds = [k for n, k in enumerate(kinds) if k not in kinds[:n]]
        return "\n\n".join(notes), kinds or ["none"], "; ".join(details), submit

    def bash(self, cmd):
        """(observation, kind) for one shell command; refused when repeated or not shell."""
        if actions.looks_like_python(cmd):
            return fill(self.prompts["not_shell"], cmd=cmd.split("\n")[0]), "not_shell"
        key = " ".join(cmd.split())
        self.ran[key] += 1
        if self.ran[key] > 1:
            return fill(self.prompts["repeat"], cmd=cmd.split("\n")[0], times=self.ran[key]), "repeat"
        code, out = actions.run_shell(cmd, self.root, min(self.config["command_timeout_s"], self.left()),
                                      self.config["output_max_chars"])
        return "$ %s\n(exit code %d)\n%s" % (cmd, code, out.rstrip() or "(no output)"), "bash"

    def trim(self, messages):
        """Blank the oldest exchanges (never the task or the latest reply) to fit the history budget."""
        total = sum(len(m["content"]) for m in messages)
        for m in messages[2:-2]:
            if total <= self.config["history_max_chars"]:
                break
            total -= len(m["content"]) - len(OMITTED)
            m["content"] = OMITTED


def _terminate(signum, frame):
    raise KeyboardInterrupt("terminated by signal %d" % signum)


def main(argv):
    signal.signal(signal.SIGTERM, _terminate)
    status, message, agent = "error", "", None
    try:
        if len(argv) != 2:
            raise ValueError("usage: python3 main.py TASK_JSON")
        with open(argv[1], encoding="utf-8") as f:
            task = json.load(f)
        config, prompts = load_scaffold_files()
        llm = LLMClient(os.environ.get("SELFCODER_LLM_SOCKET", "/run/selfcoder/llm.sock"),
                        config["model"], config["temperature"], config["retries"],
                        config["retry_backoff_s"])
        agent = Agent(task, config, prompts, llm, os.getcwd())
        status, message = agent.run()
    except BudgetExceeded as e:
        status, message = "budget_exceeded", str(e)
    except ModelError as e:
        status, message = ("time_limit" if agent and agent.left() <= 0 else "model_error"), str(e)
    except (Exception, KeyboardInterrupt) as e:
        traceback.print_exc()
        status, message = "error", "%s: %s" % (type(e).__name__, e)
    emit(type="exit", status=status, message=message[:500],
         steps=agent.steps if agent else 0, tokens=agent.tokens if agent else 0)
    return 0 if status == "submitted" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
