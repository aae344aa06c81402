"""The small-model heuristics, one named policy each, switched and tuned in config.json "policies".

Why they exist: a 1.5B model echoes prompts, resends the same reply or command, forgets the
bash tag, returns a fragment as a "whole file" and rarely writes SUBMIT. Each class below is
one answer to one such habit; its docstring says what it does and why. Every policy takes
`enabled` (false turns it off) plus the parameters shown in its __init__; a policy missing from
config.json keeps these defaults, an unknown name is an error. README.md lists them all.
"""

import collections
import difflib
import os
import re

PYTHON_RE = re.compile(r"^(def |class |import [\w.]+\s*$|from [\w.]+ import |print\()")
DEF_RE = re.compile(r"^\s*(?:async\s+)?(?:def|class|function|func|fn)\s+(\w+)", re.M)
LAZY_RE = re.compile(r"^\s*(#|//|/\*)\s*(\.\.\.|rest of|existing code|remaining|unchanged)", re.I)
COMMANDS = {"ls", "cat", "grep", "find", "sed", "head", "tail", "python", "python3", "pytest", "git",
            "cd", "echo", "wc", "awk", "diff", "pip", "rg", "tree", "make", "npm", "node", "go", "cargo"}


def same_text(text):
    """`text` with all runs of whitespace made one space: how replies and commands are compared."""
    return " ".join(text.split())


# -- the loop (agent.py) ----------------------------------------------------------------------

class StallRestart:
    """After `after_stalls` replies in a row that neither changed a file nor ran a command, start
    the conversation again from a fresh first prompt (files and tests as they are now) at a
    temperature raised by `temperature_step`, up to `max_temperature`. Measured: the 1.5B model
    at temperature 0 keeps echoing the prompt or the unchanged file, and a longer history of
    that only makes it worse."""

    def __init__(self, enabled=True, after_stalls=3, temperature_step=0.4, max_temperature=1.0):
        self.enabled, self.after_stalls = enabled, after_stalls
        self.temperature_step, self.max_temperature = temperature_step, max_temperature
        self.stalls = 0

    def due(self, progress):
        """Count this reply; True when the conversation should start again now."""
        self.stalls = 0 if progress else self.stalls + 1
        if self.enabled and self.stalls >= self.after_stalls:
            self.stalls = 0
            return True
        return False

    def raised(self, temperature):
        return min(self.max_temperature, temperature + self.temperature_step)


class SameReplyNote:
    """Put prompts/same_reply.txt before the observation when a reply is, word for word, one sent
    before (in this conversation). Measured: a 1.5B model at temperature 0 resends its reply."""

    def __init__(self, enabled=True):
        self.enabled, self.seen = enabled, set()

    def repeated(self, reply):
        """True when `reply` was sent before; remembers it either way."""
        key = same_text(reply)
        before = key in self.seen
        self.seen.add(key)
        return self.enabled and before

    def forget(self):
        self.seen = set()


class RepeatRefusal:
    """Do not run a command identical to one already run since the last successful edit (its
    output would be the same); prompts/repeat.txt says so. A 1.5B model resends `ls` forever."""

    def __init__(self, enabled=True):
        self.enabled, self.ran = enabled, collections.Counter()

    def times(self, cmd):
        """How many times `cmd` has been asked for since the last edit, this time included."""
        self.ran[same_text(cmd)] += 1
        return self.ran[same_text(cmd)]

    def refuses(self, times):
        return self.enabled and times > 1

    def forget(self):
        self.ran.clear()


class PythonAsShellRefusal:
    """Refuse a bash block that holds Python code (prompts/not_shell.txt): small models put the
    fixed function in a bash block; run by bash it only gives confusing syntax errors."""

    def __init__(self, enabled=True):
        self.enabled = enabled

    def refuses(self, cmd):
        return self.enabled and looks_like_python(cmd)


def looks_like_python(cmd):
    return bool(PYTHON_RE.match(cmd.lstrip()))


class EarlySubmitRefusal:
    """Refuse SUBMIT while no file has been changed, `times` times in all; after that SUBMIT is
    trusted (maybe no change is needed). Small models write SUBMIT before doing anything."""

    def __init__(self, enabled=True, times=1):
        self.enabled, self.times, self.refused = enabled, times, 0

    def refuses(self, changed):
        if self.enabled and not changed and self.refused < self.times:
            self.refused += 1
            return True
        return False


class FailedEditSubmitRefusal:
    """Refuse SUBMIT in a reply whose edit failed: the model believes in a change that was not
    made, and would submit without it."""

    def __init__(self, enabled=True):
        self.enabled = enabled

    def refuses(self, failed):
        return self.enabled and failed


class AutoSubmit:
    """Submit without waiting for SUBMIT after a reply whose edits all worked, when the tests
    failed before any edit and pass now: a small model that fixed the bug rarely says so. When the
    tests passed at the start (SWE-bench adds the failing tests only at validation) this never
    fires and the model has to write SUBMIT."""

    def __init__(self, enabled=True):
        self.enabled = enabled

    def applies(self, tests_failed_at_start, exit_code, edit_failed):
        return self.enabled and tests_failed_at_start and exit_code == 0 and not edit_failed


class LocalizeFirst:
    """Before the loop, when the tests fail at the start: show the problem, the failing output
    and at most `max_functions` functions (of fewer than `max_function_lines` lines) that the
    tests point at, ask for the corrected whole function, submit when the tests then pass; at
    most `attempts` model calls, test output cut to `test_output_chars` (fast_path.py). Why: a
    1.5B model drives a long loop badly but rewrites a function it is shown well."""

    def __init__(self, enabled=True, attempts=2, max_functions=2, max_function_lines=80, test_output_chars=2000):
        self.enabled, self.attempts, self.max_functions = enabled, attempts, max_functions
        self.max_function_lines, self.test_output_chars = max_function_lines, test_output_chars


class ReproduceFirst:
    """Inside the fast path (so only with `localize_first` on), when the tests pass at the start:
    ask for one pytest file, saved as `file`, that reproduces the problem (files shown up to
    `files_max_chars`); kept when pytest reports a failing test, and its failure is localised;
    else retried with pytest's output (cut to `test_output_chars`), `attempts` model calls in
    all, then removed (reproduce.py). Why: a user's problem rarely comes with a failing test,
    and without one the fast path has nothing to localise from (Agentless)."""

    def __init__(self, enabled=True, attempts=2, file="test_reproduce_issue.py", files_max_chars=6000,
                 test_output_chars=2000):
        self.enabled, self.attempts, self.file = enabled, attempts, file
        self.files_max_chars, self.test_output_chars = files_max_chars, test_output_chars


# -- reading replies (reply_parser.py) ---------------------------------------------------------

class BareCommand:
    """An untagged code block of 1 to `max_lines` lines whose first word is a common command
    (ls, grep, cat, ...) is a shell command: small models forget the bash tag."""

    def __init__(self, enabled=True, max_lines=3):
        self.enabled, self.max_lines = enabled, max_lines

    def matches(self, body, cmd):
        words = cmd.split()
        return self.enabled and len(body) <= self.max_lines and bool(words) and words[0] in COMMANDS


class NamedFileBlock:
    """A sentence naming exactly one existing file ("Here is the fixed `calc.py`:") right before a
    SEARCH block or a code block tagged with a language names that block's file: small models
    rarely write the path alone on a line."""

    def __init__(self, enabled=True):
        self.enabled = enabled


class LooseBlockRewrite:
    """An untagged, unnamed code block that closely resembles a file shown in the first prompt
    (line similarity at least `min_similarity`, at least `min_length` of its length) is taken as
    that file's rewrite, when the reply has no other edit: small models answer with just the
    corrected file."""

    def __init__(self, enabled=True, min_similarity=0.5, min_length=0.8):
        self.enabled, self.min_similarity, self.min_length = enabled, min_similarity, min_length

    def pick(self, bodies, root, focus):
        """[write action] for the shown file most like one of `bodies` (lists of lines), or []."""
        best = (self.min_similarity, [])
        for body in bodies if self.enabled else ():
            for path in focus:
                try:
                    with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
                        old = f.read().splitlines()
                except OSError:
                    continue
                ratio = difflib.SequenceMatcher(None, old, body).ratio()
                if ratio >= best[0] and len(body) >= self.min_length * len(old):
                    best = (ratio, [{"kind": "write", "path": path, "content": "\n".join(body) + "\n"}])
        return best[1]


# -- carrying out edits (edits.py) -------------------------------------------------------------

class LenientSearch:
    """SEARCH lines that do not match exactly may still match ignoring trailing whitespace, then
    ignoring indentation (the REPLACE lines are then re-indented): small models copy lines with
    the wrong indentation."""

    def __init__(self, enabled=True):
        self.enabled = enabled

    def comparisons(self):
        exact = [lambda a, b: a == b]
        if not self.enabled:
            return exact
        return exact + [lambda a, b: a.rstrip() == b.rstrip(), lambda a, b: a.strip() == b.strip()]


class RewriteGuard:
    """Refuse a whole-file rewrite that looks wrong: a fragment (a file of at least `min_lines`
    lines shrinking below `min_kept` of them), a placeholder comment ("# ... rest unchanged"),
    or content lacking a function/class the file defines. Measured: the 1.5B model "rewrote" a
    file with only the function it fixed."""

    def __init__(self, enabled=True, min_lines=20, min_kept=0.5, placeholders=True, lost_definitions=True):
        self.enabled, self.min_lines, self.min_kept = enabled, min_lines, min_kept
        self.placeholders, self.lost_definitions = placeholders, lost_definitions

    def problem(self, path, text, content):
        """Why the rewrite of `path` from `text` to `content` is refused, or None."""
        if not self.enabled:
            return None
        old, new = text.splitlines(), content.splitlines()
        if len(old) >= self.min_lines and len(new) < len(old) * self.min_kept:
            return ("refused to rewrite %s: %d lines would replace %d, which looks like a fragment; "
                    "use SEARCH/REPLACE for partial changes" % (path, len(new), len(old)))
        lazy = [n for n in new if LAZY_RE.match(n) and n not in old] if self.placeholders else []
        if lazy:
            return ("refused to rewrite %s: the new content has a placeholder line (%s); write the "
                    "complete file" % (path, lazy[0].strip()))
        lost = [d for d in DEF_RE.findall(text) if d not in DEF_RE.findall(content)]
        if lost and self.lost_definitions:
            return ("refused to rewrite %s: the new content lacks %s, which the file defines now. "
                    "Send the complete file (every function, changed or not), or use SEARCH/REPLACE "
                    "to change a part" % (path, ", ".join(lost[:5])))
        return None


KINDS = {"stall_restart": StallRestart, "same_reply_note": SameReplyNote,
         "repeat_refusal": RepeatRefusal, "python_as_shell_refusal": PythonAsShellRefusal,
         "early_submit_refusal": EarlySubmitRefusal, "failed_edit_submit_refusal": FailedEditSubmitRefusal,
         "auto_submit": AutoSubmit, "bare_command": BareCommand, "named_file_block": NamedFileBlock,
         "loose_block_rewrite": LooseBlockRewrite, "lenient_search": LenientSearch,
         "rewrite_guard": RewriteGuard, "localize_first": LocalizeFirst,
         "reproduce_first": ReproduceFirst}


class Policies:
    """One instance of every policy (they keep per-run counts), from config.json "policies"."""

    def __init__(self, settings=None):
        settings = settings or {}
        unknown = sorted(set(settings) - set(KINDS))
        if unknown:
            raise ValueError("unknown policies in config.json: %s (known: %s)"
                             % (", ".join(unknown), ", ".join(sorted(KINDS))))
        for name, kind in KINDS.items():
            setattr(self, name, kind(**settings.get(name, {})))
