"""Turns a model reply into actions, and carries them out in the workspace.

A reply may hold, in any order (see prompts/system.txt for how the model is told):
- SEARCH/REPLACE edits: a path line, `<<<<<<< SEARCH`, old lines, `=======`, new lines,
  `>>>>>>> REPLACE`; blocks may sit inside a code fence (aider style);
- a whole-file rewrite: a path line (or a sentence naming one existing file, or the fence's
  info string) followed by a fenced code block with the complete new content;
- a shell command: a fenced block tagged bash/sh/shell/console;
- SUBMIT alone on a line, outside code blocks.
The parser never raises: malformed pieces become {"kind": "error"} actions, and a reply with
no valid action is the caller's format error. Markers only count at the start of a line, so
prose that merely mentions them (the prompts do) is never an action.
"""

import difflib
import os
import re
import signal
import subprocess
import tempfile
import threading

SEARCH_RE = re.compile(r"^\s*<{5,9}\s*SEARCH\s*$", re.I)
DIVIDER_RE = re.compile(r"^\s*={5,9}\s*$")
REPLACE_RE = re.compile(r"^\s*>{5,9}\s*REPLACE\s*$", re.I)
FENCE_RE = re.compile(r"^\s*(`{3,}|~{3,})\s*([^`]*)$")
SUBMIT_RE = re.compile(r"^[\s*_`#>]*SUBMIT[\s*_`.!]*$")
PATH_RE = re.compile(r"^/?(?:[\w.\-]+/)*[\w\-][\w.\-]*\.[A-Za-z_]\w*$|^/?(?:[\w.\-]+/)+[\w.\-]+$")
TOKEN_RE = re.compile(r"[\w./\-]+")
PYTHON_RE = re.compile(r"^(def |class |import [\w.]+\s*$|from [\w.]+ import |print\()")
DEF_RE = re.compile(r"^\s*(?:async\s+)?(?:def|class|function|func|fn)\s+(\w+)", re.M)
LAZY_RE = re.compile(r"^\s*(#|//|/\*)\s*(\.\.\.|rest of|existing code|remaining|unchanged)", re.I)
SHELL_LANGS = {"bash", "sh", "shell", "console", "zsh", "terminal", "shell-session"}
OUTPUT_LANGS = {"text", "txt", "output", "log", "plaintext", "none"}
COMMANDS = {"ls", "cat", "grep", "find", "sed", "head", "tail", "python", "python3", "pytest", "git",
            "cd", "echo", "wc", "awk", "diff", "pip", "rg", "tree", "make", "npm", "node", "go", "cargo"}


class ActionError(Exception):
    """An action that cannot be carried out; the message is shown to the model."""


# -- parsing ---------------------------------------------------------------------------------

def clean_path(line):
    """The path if `line` is nothing but a path (decorations like **, `, #, File: allowed)."""
    s = line.strip().strip("*`'\"#").strip()
    s = re.sub(r"^(file|path|filename)\s*:\s*", "", s, flags=re.I).strip("*`'\": ")
    return s if PATH_RE.match(s) else None


def parse_reply(text, root=".", focus=()):
    """List of actions in reply order: edit, write, bash, submit, error (dicts with "kind").
    `focus`: files shown to the model; an untagged code block without a path that looks like
    a full new version of one of them is taken as its rewrite (small models answer that way)."""
    lines = text.replace("\r\n", "\n").split("\n")
    acts, loose, last_path, wrap, i = [], [], None, None, 0
    exists = lambda p: os.path.isfile(os.path.join(root, p))  # noqa: E731
    while i < len(lines):
        line, fence = lines[i], FENCE_RE.match(lines[i])
        if SEARCH_RE.match(line):
            i, act = _search_replace(lines, i, _path_above(lines, i, "", exists) or last_path)
            last_path = act.get("path") or last_path
            acts.append(act)
        elif fence and wrap and fence.group(1) == wrap and not fence.group(2).strip():
            wrap, i = None, i + 1  # the closing fence around SEARCH/REPLACE blocks
        elif fence:
            mark, info = fence.group(1), fence.group(2).strip()
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip().startswith(mark)
                        and not lines[j].strip().strip(mark[0])), len(lines))
            if any(SEARCH_RE.match(b) for b in lines[i + 1:end]):  # aider style: parse inside
                wrap, i = mark, i + 1
                last_path = _path_above(lines, i - 1, info, exists) or last_path
                continue
            _code_block(lines, i, info, lines[i + 1:end], end >= len(lines), acts, loose, exists)
            i = end + 1
        else:
            if SUBMIT_RE.match(line):
                acts.append({"kind": "submit"})
            i += 1
    if loose and not any(a["kind"] in ("edit", "write") for a in acts):
        acts += _match_focus(loose, root, focus)
    return acts


def _path_above(lines, i, info, exists):
    """The file for the block starting at line i: named in the fence info string, or on the
    nearest non-blank line above, alone or (if `exists`) as the one existing file a sentence
    names ("Here is the fixed `calc.py`:")."""
    for token in re.split(r"[\s:]+", info):
        if clean_path(token):
            return clean_path(token)
    k = i - 1
    while k >= 0 and not lines[k].strip():
        k -= 1
    if k < 0 or clean_path(lines[k]) or not exists:
        return clean_path(lines[k]) if k >= 0 else None
    named = {t.strip(".") for t in TOKEN_RE.findall(lines[k]) if PATH_RE.match(t.strip("."))}
    named = [t for t in named if exists(t)]
    return named[0] if len(named) == 1 else None


def _search_replace(lines, i, path):
    """Parse the block whose SEARCH marker is line i; return (next line index, action)."""
    j, search, replace = i + 1, [], []
    while j < len(lines) and not DIVIDER_RE.match(lines[j]):
        if SEARCH_RE.match(lines[j]) or REPLACE_RE.match(lines[j]):
            return j, {"kind": "error", "msg": "a SEARCH/REPLACE block has no ======= line"}
        search.append(lines[j])
        j += 1
    j += 1
    while j < len(lines) and not REPLACE_RE.match(lines[j]) and not SEARCH_RE.match(lines[j]):
        replace.append(lines[j])
        j += 1
    if j >= len(lines) or not REPLACE_RE.match(lines[j]):
        return j, {"kind": "error", "msg": "a SEARCH/REPLACE block does not end with >>>>>>> REPLACE"}
    if not path:
        return j + 1, {"kind": "error", "msg": "a SEARCH/REPLACE block has no file path line before it"}
    return j + 1, {"kind": "edit", "path": path, "search": search, "replace": replace}


def _code_block(lines, i, info, body, unclosed, acts, loose, exists):
    """Classify the fenced block opened at line i: shell command, file rewrite, or loose code."""
    lang = info.split()[0].lower() if info else ""
    text = "\n".join(body).strip()
    cmd = "\n".join(re.sub(r"^\s*\$ ", "", b) for b in body).strip()
    code = lang not in OUTPUT_LANGS  # output/log blocks are never file contents
    path = None if lang in SHELL_LANGS else _path_above(lines, i, info, code and lang and exists)
    if text == "SUBMIT":
        acts.append({"kind": "submit"})
    elif lang in SHELL_LANGS or (not path and not lang and len(body) <= 3
                                 and cmd.split()[:1] and cmd.split()[0] in COMMANDS):
        if cmd:  # an untagged one-liner like `ls -la` counts too
            acts.append({"kind": "bash", "cmd": cmd})
    elif lang == "diff" or text.startswith("--- "):
        acts.append({"kind": "error", "msg": "unified diffs are not applied; use SEARCH/REPLACE "
                                             "blocks or rewrite the whole file"})
    elif path and unclosed:
        acts.append({"kind": "error", "msg": "the code block for %s is not closed" % path})
    elif path:
        acts.append({"kind": "write", "path": path, "content": "\n".join(body) + "\n"})
    elif code:
        loose.append(body)


def _match_focus(bodies, root, focus):
    """A write of the shown file that a loose code block most resembles, if it clearly does."""
    best = (0.5, [])
    for body in bodies:
        for path in focus:
            try:
                with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
                    old = f.read().splitlines()
            except OSError:
                continue
            ratio = difflib.SequenceMatcher(None, old, body).ratio()
            if ratio >= best[0] and len(body) >= 0.8 * len(old):
                best = (ratio, [{"kind": "write", "path": path, "content": "\n".join(body) + "\n"}])
    return best[1]


# -- edits -----------------------------------------------------------------------------------

def apply_edit(root, act):
    """Carry out an "edit" or "write" action; return a one-line report or raise ActionError."""
    if act["kind"] == "edit":
        return apply_search_replace(root, act["path"], act["search"], act["replace"])
    return write_file(root, act["path"], act["content"])


def resolve(root, path):
    """Absolute path of `path` inside the workspace `root`; ActionError if it points outside."""
    full, top = os.path.realpath(os.path.join(root, path)), os.path.realpath(root)
    if not full.startswith(top + os.sep):
        raise ActionError("%s is outside the repository" % path)
    return full


def _read(full):
    with open(full, encoding="utf-8", errors="surrogateescape", newline="") as f:
        return f.read()


def _write(full, text):
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w", encoding="utf-8", errors="surrogateescape", newline="") as f:
        f.write(text)


def apply_search_replace(root, path, search, replace):
    """Replace the one place in `path` that matches the SEARCH lines; return a short report.
    Matching is tried exactly, then ignoring trailing spaces, then ignoring indentation
    (the REPLACE lines are then re-indented like the file)."""
    full = resolve(root, path)
    while search and not search[0].strip() and replace and not replace[0].strip():
        search, replace = search[1:], replace[1:]
    while search and not search[-1].strip() and replace and not replace[-1].strip():
        search, replace = search[:-1], replace[:-1]
    if not search:
        if os.path.exists(full):
            raise ActionError("the SEARCH part for %s is empty but the file exists; "
                              "copy the lines to change into SEARCH" % path)
        _write(full, "\n".join(replace) + "\n")
        return "Created %s." % path
    if not os.path.isfile(full):
        raise ActionError("%s does not exist (paths are relative to the repository root)" % path)
    text = _read(full)
    nl = "\r\n" if "\r\n" in text else "\n"
    old = text.split(nl)
    for same in (lambda a, b: a == b, lambda a, b: a.rstrip() == b.rstrip(),
                 lambda a, b: a.strip() == b.strip()):
        starts = [s for s in range(len(old) - len(search) + 1)
                  if all(same(old[s + k], search[k]) for k in range(len(search)))]
        if len(starts) > 1:
            raise ActionError("the SEARCH text matches %d places in %s; add more lines around "
                              "the change so it matches exactly one" % (len(starts), path))
        if starts:
            s = starts[0]
            new = _reindent(replace, search, old[s:s + len(search)])
            _write(full, nl.join(old[:s] + new + old[s + len(search):]))
            return "Edited %s (lines %d-%d replaced)." % (path, s + 1, s + len(search))
    raise ActionError("the SEARCH text was not found in %s; it must copy the current lines "
                      "exactly. The most similar lines in the file are:\n%s"
                      % (path, _closest(old, search)))


def _reindent(replace, search, found):
    """Shift REPLACE lines by the indentation difference between SEARCH and the file."""
    pair = next(((a, b) for a, b in zip(search, found) if a.strip()), None)
    if not pair:
        return replace
    want, got = (len(x) - len(x.lstrip()) for x in (pair[1], pair[0]))
    if want > got:
        pad = pair[1][:want - got]
        return [pad + r if r.strip() else r for r in replace]
    cut = got - want
    return [r[min(cut, len(r) - len(r.lstrip())):] for r in replace]


def _closest(old, search):
    """The window of the file most similar to the SEARCH lines, with line numbers."""
    target = "\n".join(s.strip() for s in search)
    best, start, n = -1.0, 0, max(1, len(search))
    for s in range(max(1, len(old) - n + 1)):
        m = difflib.SequenceMatcher(None, "\n".join(o.strip() for o in old[s:s + n]), target)
        if m.real_quick_ratio() > best and m.quick_ratio() > best:
            ratio = m.ratio()
            if ratio > best:
                best, start = ratio, s
    return "\n".join("%5d  %s" % (start + k + 1, line) for k, line in enumerate(old[start:start + n]))


def write_file(root, path, content):
    """Write the whole file; refuse what looks like a fragment of a larger existing file."""
    full = resolve(root, path)
    if os.path.isfile(full):
        text = _read(full)
        if text.replace("\r\n", "\n").rstrip("\n") == content.rstrip("\n"):
            raise ActionError("nothing changed: the content you sent for %s is identical to the "
                              "current file. Find the lines that cause the problem and change them"
                              % path)
        old, new = text.splitlines(), content.splitlines()
        if len(old) >= 20 and len(new) < len(old) / 2:
            raise ActionError("refused to rewrite %s: %d lines would replace %d, which looks like "
                              "a fragment; use SEARCH/REPLACE for partial changes"
                              % (path, len(new), len(old)))
        lazy = [n for n in new if LAZY_RE.match(n) and n not in old]
        if lazy:
            raise ActionError("refused to rewrite %s: the new content has a placeholder line "
                              "(%s); write the complete file" % (path, lazy[0].strip()))
        lost = [d for d in DEF_RE.findall(text) if d not in DEF_RE.findall(content)]
        if lost:
            raise ActionError("refused to rewrite %s: the new content lacks %s, which the file "
                              "defines now. Send the complete file (every function, changed or "
                              "not), or use SEARCH/REPLACE to change a part" % (path, ", ".join(lost[:5])))
        if "\r\n" in text:
            content = content.replace("\n", "\r\n")
    _write(full, content)
    return "Wrote %s (%d lines)." % (path, content.count("\n"))


# -- shell -----------------------------------------------------------------------------------

def looks_like_python(cmd):
    return bool(PYTHON_RE.match(cmd.lstrip()))


def truncate(text, max_chars):
    """Keep the head and the tail of long text, with a marker saying how much was cut."""
    if len(text) <= max_chars:
        return text
    half = max_chars // 2
    return "%s\n[... %d characters omitted ...]\n%s" % (
        text[:half], len(text) - 2 * half, text[-half:])


def _kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def run_shell(cmd, cwd, timeout, max_chars):
    """Run `cmd` in a fresh bash; return (exit code, output). Output goes to a temporary file
    (no pipe a background process could hold open); the whole process group is killed at the
    end or on timeout."""
    shell = "/bin/bash" if os.path.exists("/bin/bash") else "/bin/sh"
    env = dict(os.environ, PAGER="cat", GIT_PAGER="cat", TERM="dumb", PYTHONDONTWRITEBYTECODE="1")
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen([shell, "-c", cmd], cwd=cwd, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True)
        # a blocking wait plus a timer that kills on timeout: Popen.wait(timeout) polls with
        # sleeps, which measurably added milliseconds to every command
        expired = []
        timer = threading.Timer(max(timeout, 0.01), lambda: (expired.append(1), _kill_group(proc.pid)))
        timer.start()
        code = proc.wait()
        timer.cancel()
        note = ""
        if expired:
            code, note = 124, "\n(timed out after %g s; the command was killed)" % timeout
        _kill_group(proc.pid)  # whatever the command left running in the background
        size = out.seek(0, os.SEEK_END)
        out.seek(0)
        if size <= max_chars:
            text = out.read().decode("utf-8", "replace")
        else:
            head = out.read(max_chars // 2).decode("utf-8", "replace")
            out.seek(size - max_chars // 2)
            text = "%s\n[... %d bytes omitted ...]\n%s" % (
                head, size - 2 * (max_chars // 2), out.read().decode("utf-8", "replace"))
    return code, text + note
