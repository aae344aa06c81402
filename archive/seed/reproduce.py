"""Reproduce first (policy `reproduce_first`): when the tests pass at the start, write a test
that fails, so that the fast path has a failure to localise from.

Why: the fast path (fast_path.py) finds the functions to fix from failing tests, but a user's
problem ("median is wrong for even lists") usually comes with none: every test passes. As in
Agentless, the model first writes ONE pytest file that shows the problem (prompts/reproduce.txt).
It counts only when pytest reports a failing test (exit code 1 and a FAILED line): a pass shows
nothing, and a collection or usage error (exit 2, 4, 5) or a missing pytest tells nothing about
the code. Then the file stays, its output is what the fast path localises from, and the test
command from here on runs the repository's tests and this file, so "tests pass" means both. Else
the model sees what happened and gets `attempts` tries in all; after that the file is removed and
the run goes on as before. A reply with no test in it (a fix, a command) is not wasted: the loop
carries it out. Every model call is a step. The host never counts this test in the verdict
(validation removes the test files a patch adds); it shows it to the user beside the patch.
"""

import os
import re
import shlex

import context
import localize
from events import emit
from policies import Policies
from reply_parser import parse_reply
from shell import run_shell
from texts import fill, tail, truncate

BLOCK_RE = re.compile(r"^```[ \t]*(?:python3?|py)?[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
TEST_DEF_RE = re.compile(r"^[ \t]*(?:async[ \t]+)?def[ \t]+test\w*[ \t]*\(", re.M)
PYTHON_M_RE = re.compile(r"(?:^|[\s;&|(])(\S*python[\d.]*)\s+-m\s+pytest\b")
PYTEST_RE = re.compile(r"(?:^|[\s;&|(])(\S*pytest)(?=\s|$)")
PYTHON_RE = re.compile(r"(?:^|[\s;&|(])(\S*python[\d.]*)(?=\s|$)")
WHY = {0: "Your test passed with the code as it is now, so it does not show the problem.",
       2: "pytest stopped while collecting your file (exit code 2: an import or syntax error).",
       4: "pytest could not run your file (exit code 4: a usage error).",
       5: "pytest found no test in your file (exit code 5): name the test functions test_..."}


def test_code(reply):
    """The first fenced (python or untagged) block of `reply` that defines a test_ function, or None."""
    for match in BLOCK_RE.finditer(reply):
        if TEST_DEF_RE.search(match.group(1)):
            return match.group(1)
    return None


def pytest_command(test_cmd, path):
    """pytest started the way the test command starts it (its interpreter's `-m pytest`, its
    pytest, or its python), else python3's, on `path` alone."""
    python_m, pytest, python = (r.search(test_cmd) for r in (PYTHON_M_RE, PYTEST_RE, PYTHON_RE))
    if python_m or not pytest:
        start = "%s -m pytest" % (python_m or python).group(1) if python_m or python else "python3 -m pytest"
    else:
        start = pytest.group(1)
    return "%s -q -p no:cacheprovider %s" % (start, shlex.quote(path))


def reproduces(code, out):
    """A failing test, not a pass, a collection error or pytest missing."""
    return code == 1 and bool(localize.failing_ids(out))


def why_not(code, out):
    if code == 1:
        return "No test of your file failed (exit code 1: is pytest installed, do the tests run?)."
    return WHY.get(code, "pytest exited with code %d." % code)


class Reproduce:
    """One run's reproduction stage; run() says what came of it."""

    def __init__(self, agent):
        self.agent, self.policy = agent, agent.policies.reproduce_first

    def applies(self, files):
        a, path = self.agent, self.policy.file
        if not any(f.endswith(".py") and not localize.is_test_file(f) for f in files):
            return "no Python code in the repository"
        return "%s exists already" % path if os.path.lexists(os.path.join(a.root, path)) else None

    def run(self, repo_output):
        """(stop, found, leftover): `stop` a (status, message) when a limit ends the run; `found`
        the (exit code, output) of the test command, which now covers the reproduction test, when
        it reproduces; `leftover` a reply with no test for the loop to carry out."""
        a, p = self.agent, self.policy
        files = context.list_files(a.root)
        skip = self.applies(files)
        if skip:
            emit(type="reproduce", status="skipped", detail=skip[:200])
            return None, None, None
        command = pytest_command(a.test_cmd, p.file)
        problem = truncate((a.task.get("problem_statement") or "").strip(), a.config["problem_max_chars"])
        paths = context.relevant_files(a.root, files, a.task, "", a.config["max_files"])
        shown = context.show_files(a.root, paths, context.identifiers(problem), p.files_max_chars)[0]
        messages = [{"role": "system", "content": a.prompts["system"]},
                    {"role": "user", "content": fill(a.prompts["reproduce"], problem_statement=problem,
                                                     test_cmd=a.test_cmd, file=p.file, command=command,
                                                     files=shown or "(none found)")}]
        for attempt in range(1, p.attempts + 1):
            stop = a.limit_reached()
            if stop:
                return stop, None, None
            reply = a.ask_model(messages)
            code_text = None if self.edits_other_files(reply) else test_code(reply)
            if code_text is None:
                emit(type="reproduce", status="no_test", detail="the reply holds no test: the loop carries it out")
                self.remove()
                return None, None, reply
            with open(os.path.join(a.root, p.file), "w", encoding="utf-8") as f:
                f.write(code_text)
            emit(type="reproduce", status="written", detail="%s (try %d of %d)" % (p.file, attempt, p.attempts))
            code, out = run_shell(command, a.root, min(a.config["test_timeout_s"], a.time_left()), 40000)
            done = reproduces(code, out)
            note = "reproduced: %s" % ", ".join(localize.failing_ids(out))[:150] if done else why_not(code, out)
            emit(type="step", n=a.steps, action="reproduce", detail=("%s: %s" % (p.file, note))[:200],
                 tokens=a.tokens)
            emit(type="reproduce", status="reproduced" if done else "not_reproduced", detail=note[:200])
            if done:
                a.test_cmd = "(%s); first=$?; %s || exit $?; exit $first" % (a.test_cmd, command)
                return None, (code, repo_output.rstrip() + "\n" + out), None
            messages.append({"role": "user", "content": fill(
                a.prompts["reproduce_retry"], verdict=why_not(code, out), command=command, code=code,
                output=tail(out.strip(), p.test_output_chars))})
        self.remove()
        emit(type="reproduce", status="removed",
             detail=("%s did not reproduce the problem: removed; %d steps left" % (p.file, a.max_steps - a.steps))[:200])
        return None, None, None

    def edits_other_files(self, reply):
        """Whether the reply changes files in the loop's formats (a SEARCH/REPLACE block, a path line
        before a block) other than the reproduction file: then its test_ functions are edits of
        those files (a fix, a rewritten test), which the loop carries out, not a reproduction."""
        plain = Policies({"named_file_block": {"enabled": False}, "loose_block_rewrite": {"enabled": False}})
        return any(act["kind"] == "edit" or (act["kind"] == "write" and act["path"] != self.policy.file)
                   for act in parse_reply(reply, self.agent.root, [], plain))

    def remove(self):
        try:
            os.remove(os.path.join(self.agent.root, self.policy.file))
        except OSError:
            pass
