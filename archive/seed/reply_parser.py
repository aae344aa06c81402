"""Turns a model reply into a list of actions (dicts with a "kind"), in reply order.

A reply may hold, in any order (prompts/system.txt tells the model; README.md has the details):
- "edit": a SEARCH/REPLACE block: a path line, `<<<<<<< SEARCH`, old lines, `=======`, new
  lines, `>>>>>>> REPLACE`; blocks may sit inside a code fence (aider style);
- "write": a whole-file rewrite: a path line (or the fence's info string, or a sentence naming
  one existing file) followed by a fenced code block with the complete new content;
- "bash": a fenced block tagged bash/sh/shell/console (or a bare command, see policies/bare_command.py);
- "submit": SUBMIT alone on a line, outside code blocks (or alone in a block);
- "error": a malformed piece, with "msg" saying what is wrong (shown to the model).
The parser never raises. Markers only count at the start of a line, so prose that merely
mentions them (the prompts do) is never an action: a parroted prompt does nothing.
"""

import os
import re

from policies import Policies

SEARCH_RE = re.compile(r"^\s*<{5,9}\s*SEARCH\s*$", re.I)
DIVIDER_RE = re.compile(r"^\s*={5,9}\s*$")
REPLACE_RE = re.compile(r"^\s*>{5,9}\s*REPLACE\s*$", re.I)
FENCE_RE = re.compile(r"^\s*(`{3,}|~{3,})\s*([^`]*)$")
SUBMIT_RE = re.compile(r"^[\s*_`#>]*SUBMIT[\s*_`.!]*$")
PATH_RE = re.compile(r"^/?(?:[\w.\-]+/)*[\w\-][\w.\-]*\.[A-Za-z_]\w*$|^/?(?:[\w.\-]+/)+[\w.\-]+$")
TOKEN_RE = re.compile(r"[\w./\-]+")
SHELL_LANGS = {"bash", "sh", "shell", "console", "zsh", "terminal", "shell-session"}
OUTPUT_LANGS = {"text", "txt", "output", "log", "plaintext", "none"}


def parse_reply(text, root=".", focus=(), policies=None):
    """The actions in `text`. `root`: the workspace (to check that a named file exists);
    `focus`: the files shown whole in the first prompt (for policies/loose_block_rewrite.py)."""
    return ReplyParser(text, root, focus, policies or Policies()).parse()


def clean_path(line):
    """The path if `line` is nothing but a path (decorations like **, `, #, File: allowed)."""
    s = line.strip().strip("*`'\"#").strip()
    s = re.sub(r"^(file|path|filename)\s*:\s*", "", s, flags=re.I).strip("*`'\": ")
    return s if PATH_RE.match(s) else None


class ReplyParser:
    """One pass over the reply's lines; `acts` collects actions, `loose` untagged code blocks."""

    def __init__(self, text, root, focus, policies):
        self.lines = text.replace("\r\n", "\n").split("\n")
        self.root, self.focus, self.policies = root, focus, policies
        self.acts, self.loose = [], []
        self.last_path = None  # a SEARCH block without its own path line edits the previous file
        self.wrap = None  # the fence around SEARCH/REPLACE blocks we are inside, if any

    def parse(self):
        i = 0
        while i < len(self.lines):
            i = self.read_at(i)
        if self.loose and not any(a["kind"] in ("edit", "write") for a in self.acts):
            self.acts += self.policies.loose_block_rewrite.pick(self.loose, self.root, self.focus)
        return self.acts

    def read_at(self, i):
        """Read the piece starting at line i; return the index of the line after it."""
        line, fence = self.lines[i], FENCE_RE.match(self.lines[i])
        if SEARCH_RE.match(line):
            return self.search_replace(i, self.path_above(i, "", self.exists) or self.last_path)
        if fence and self.wrap and fence.group(1) == self.wrap and not fence.group(2).strip():
            self.wrap = None  # the closing fence around SEARCH/REPLACE blocks
            return i + 1
        if fence:
            return self.fenced_block(i, fence.group(1), fence.group(2).strip())
        if SUBMIT_RE.match(line):
            self.acts.append({"kind": "submit"})
        return i + 1

    def exists(self, path):
        """Whether `path` is a file in the workspace (for policies/named_file_block.py)."""
        return os.path.isfile(os.path.join(self.root, path))

    def path_above(self, i, info, exists):
        """The file for the block starting at line i: named in the fence info string, or on the
        nearest non-blank line above, alone or (if `exists` is given) as the one existing file
        a sentence names ("Here is the fixed `calc.py`:")."""
        for token in re.split(r"[\s:]+", info):
            if clean_path(token):
                return clean_path(token)
        k = i - 1
        while k >= 0 and not self.lines[k].strip():
            k -= 1
        if not self.policies.named_file_block.enabled:
            exists = None
        if k < 0 or clean_path(self.lines[k]) or not exists:
            return clean_path(self.lines[k]) if k >= 0 else None
        named = {t.strip(".") for t in TOKEN_RE.findall(self.lines[k]) if PATH_RE.match(t.strip("."))}
        named = [t for t in named if exists(t)]
        return named[0] if len(named) == 1 else None

    def search_replace(self, i, path):
        """Parse the SEARCH/REPLACE block whose SEARCH marker is line i; return the next index."""
        lines, j, search, replace = self.lines, i + 1, [], []
        while j < len(lines) and not DIVIDER_RE.match(lines[j]):
            if SEARCH_RE.match(lines[j]) or REPLACE_RE.match(lines[j]):
                return self.error(j, "a SEARCH/REPLACE block has no ======= line")
            search.append(lines[j])
            j += 1
        j += 1
        while j < len(lines) and not REPLACE_RE.match(lines[j]) and not SEARCH_RE.match(lines[j]):
            replace.append(lines[j])
            j += 1
        if j >= len(lines) or not REPLACE_RE.match(lines[j]):
            return self.error(j, "a SEARCH/REPLACE block does not end with >>>>>>> REPLACE")
        if not path:
            return self.error(j + 1, "a SEARCH/REPLACE block has no file path line before it")
        self.last_path = path
        self.acts.append({"kind": "edit", "path": path, "search": search, "replace": replace})
        return j + 1

    def error(self, next_index, msg):
        self.acts.append({"kind": "error", "msg": msg})
        return next_index

    def fenced_block(self, i, mark, info):
        """The code block opened at line i by fence `mark`; return the index after its end."""
        end = next((j for j in range(i + 1, len(self.lines)) if self.lines[j].strip().startswith(mark)
                    and not self.lines[j].strip().strip(mark[0])), len(self.lines))
        body = self.lines[i + 1:end]
        if any(SEARCH_RE.match(b) for b in body):  # aider style: SEARCH blocks inside the fence
            self.wrap = mark
            self.last_path = self.path_above(i, info, self.exists) or self.last_path
            return i + 1
        self.code_block(i, info, body, end >= len(self.lines))
        return end + 1

    def code_block(self, i, info, body, unclosed):
        """Classify a fenced block: SUBMIT, shell command, diff, file rewrite, or loose code."""
        lang = info.split()[0].lower() if info else ""
        text = "\n".join(body).strip()
        cmd = "\n".join(re.sub(r"^\s*\$ ", "", b) for b in body).strip()
        code = lang not in OUTPUT_LANGS  # output/log blocks are never file contents
        path = None if lang in SHELL_LANGS else self.path_above(i, info, code and lang and self.exists)
        if text == "SUBMIT":
            self.acts.append({"kind": "submit"})
        elif lang in SHELL_LANGS or (not path and not lang and self.policies.bare_command.matches(body, cmd)):
            if cmd:
                self.acts.append({"kind": "bash", "cmd": cmd})
        elif lang == "diff" or text.startswith("--- "):
            self.acts.append({"kind": "error", "msg": "unified diffs are not applied; use SEARCH/REPLACE "
                                                      "blocks or rewrite the whole file"})
        elif path and unclosed:
            self.acts.append({"kind": "error", "msg": "the code block for %s is not closed" % path})
        elif path:
            self.acts.append({"kind": "write", "path": path, "content": "\n".join(body) + "\n"})
        elif code:
            self.loose.append(body)
