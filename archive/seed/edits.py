"""Carries out "edit" (SEARCH/REPLACE) and "write" (whole-file) actions in the workspace.

Each returns a one-line report for the model, or raises ActionError whose message is shown to
the model (so it says how to do better). Paths are relative to the workspace root and may not
leave it. Files keep their line endings (CRLF stays CRLF).
"""

import difflib
import os

from policies import Policies


class ActionError(Exception):
    """An action that cannot be carried out; the message is shown to the model."""


def apply_edit(root, act, policies=None):
    """Carry out an "edit" or "write" action; return a one-line report or raise ActionError."""
    policies = policies or Policies()
    if act["kind"] == "edit":
        return apply_search_replace(root, act["path"], act["search"], act["replace"], policies.lenient_search)
    return write_file(root, act["path"], act["content"], policies.rewrite_guard)


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


def _trim_blank_edges(search, replace):
    """Drop blank first/last lines that SEARCH and REPLACE both have (models pad blocks)."""
    while search and not search[0].strip() and replace and not replace[0].strip():
        search, replace = search[1:], replace[1:]
    while search and not search[-1].strip() and replace and not replace[-1].strip():
        search, replace = search[:-1], replace[:-1]
    return search, replace


def apply_search_replace(root, path, search, replace, lenient=None):
    """Replace the one place in `path` that matches the SEARCH lines; return a short report.
    An empty SEARCH creates a missing file. `lenient`: policies/lenient_search.py."""
    full = resolve(root, path)
    search, replace = _trim_blank_edges(search, replace)
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
    for same in (lenient or Policies().lenient_search).comparisons():
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


def write_file(root, path, content, guard=None):
    """Write the whole file. An existing file is not rewritten with identical content, nor when
    `guard` (policies/rewrite_guard.py) finds the new content suspicious."""
    full = resolve(root, path)
    if os.path.isfile(full):
        text = _read(full)
        if text.replace("\r\n", "\n").rstrip("\n") == content.rstrip("\n"):
            raise ActionError("nothing changed: the content you sent for %s is identical to the "
                              "current file. Find the lines that cause the problem and change them"
                              % path)
        problem = (guard or Policies().rewrite_guard).problem(path, text, content)
        if problem:
            raise ActionError(problem)
        if "\r\n" in text:
            content = content.replace("\n", "\r\n")
    _write(full, content)
    return "Wrote %s (%d lines)." % (path, content.count("\n"))
