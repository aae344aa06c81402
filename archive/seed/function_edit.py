"""A model reply holding whole corrected functions -> those functions replaced in their files.

Why: asked for "the corrected function, in one python block", a 1.5B model answers reliably,
but it may add imports, send the whole module, or send several functions. We take, for each
function it was shown (a target from localize.py), the function of the same name in the reply's
code, re-indented to where it sits in the file, and replace it by its line range (decorators
included). Imports in the reply that the file lacks are added after the file's imports. A reply
that does not parse, has no such function, or would leave the file unparsable changes nothing.
"""

import ast
import os
import re
import textwrap

from edits import ActionError, resolve

FENCE_RE = re.compile(r"^\s*(`{3,}|~{3,})\s*([\w.+/\-]*)[^\n]*$")
PY_LANGS = {"", "python", "py", "python3", "py3"}


def code_blocks(reply):
    """The bodies of the reply's fenced blocks that may be Python (untagged, python, *.py)."""
    lines, blocks, i = reply.replace("\r\n", "\n").split("\n"), [], 0
    while i < len(lines):
        m = FENCE_RE.match(lines[i])
        if not m:
            i += 1
            continue
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == m.group(1)), len(lines))
        lang = m.group(2).lower()
        if lang in PY_LANGS or lang.endswith(".py"):
            blocks.append("\n".join(lines[i + 1:end]))
        i = end + 1
    return blocks


def parsed(blocks):
    """[(source lines, module)] of the blocks that parse; ActionError when none does."""
    good, error = [], "the reply has no python code block"
    for body in blocks:
        text = textwrap.dedent(body)
        try:
            good.append((text.split("\n"), ast.parse(text)))
        except (SyntaxError, ValueError) as e:
            error = "the code block is not valid Python (line %s: %s)" % (getattr(e, "lineno", "?"), e.msg
                                                                         if hasattr(e, "msg") else e)
    if not good:
        raise ActionError(error)
    return good


def new_source(code, name):
    """(lines of the outermost function `name` in the parsed blocks, dedented; imports; whether it
    has decorators) or None."""
    for lines, tree in code:
        defs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                and n.name == name]
        if defs:
            node = defs[0]  # ast.walk is breadth-first: the outermost definition comes first
            start = min([d.lineno for d in node.decorator_list] + [node.lineno])
            body = textwrap.dedent("\n".join(lines[start - 1:node.end_lineno])).split("\n")
            imports = ["\n".join(lines[n.lineno - 1:n.end_lineno]) for n in tree.body
                       if isinstance(n, (ast.Import, ast.ImportFrom))]
            return body, imports, bool(node.decorator_list)
    return None


def add_imports(text_lines, imports):
    """Insert the import statements the file lacks after its last top-level import (or its
    docstring); returns how many lines were added."""
    have = {line.strip() for line in text_lines}
    missing = [imp for imp in imports if imp.strip() not in have]
    if not missing:
        return 0
    tree = ast.parse("\n".join(text_lines))
    heads = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    if not heads and tree.body and isinstance(tree.body[0], ast.Expr) and isinstance(
            getattr(tree.body[0], "value", None), (ast.Constant, ast.Str)):
        heads = [tree.body[0]]
    at = heads[-1].end_lineno if heads else 0
    new = [line for imp in missing for line in imp.split("\n")]
    text_lines[at:at] = new
    return len(new)


def replace_functions(root, targets, reply):
    """Replace each target function that the reply's code defines again; return (report,
    {path: original text}). Raises ActionError (nothing changed) when it cannot."""
    code = parsed(code_blocks(reply))
    by_path = {}
    for t in targets:
        found = new_source(code, t["name"])
        if found:
            by_path.setdefault(t["path"], []).append((t, found))
    if not by_path:
        raise ActionError("the reply has no function named %s" % " or ".join(t["name"] for t in targets))
    news, report = {}, []
    for path, items in by_path.items():
        full = resolve(root, path)
        with open(full, encoding="utf-8", errors="surrogateescape", newline="") as f:
            text = f.read()
        lines, imports = text.replace("\r\n", "\n").split("\n"), []
        for t, (body, imps, decorated) in sorted(items, key=lambda item: -item[0]["start"]):
            start = t["start"] if decorated else t["def"]  # a reply without decorators keeps the file's
            indent = re.match(r"\s*", lines[start - 1]).group(0)
            lines[start - 1:t["end"]] = [indent + b if b.strip() else "" for b in body]
            imports += imps
            report.append("replaced %s in %s (lines %d-%d)" % (t["qualname"], path, t["start"], t["end"]))
        try:
            ast.parse("\n".join(lines))
        except SyntaxError as e:
            raise ActionError("with your function, %s would not be valid Python (line %s: %s)"
                              % (path, e.lineno, e.msg))
        add_imports(lines, imports)
        new = ("\r\n" if "\r\n" in text else "\n").join(lines)
        if new != text:
            news[path] = (full, text, new)
    if not news:
        raise ActionError("nothing changed: the function is the same as before")
    for full, _, new in news.values():
        with open(full, "w", encoding="utf-8", errors="surrogateescape", newline="") as f:
            f.write(new)
    return "; ".join(report), {path: text for path, (_, text, _) in news.items()}


def restore(root, originals):
    """Put back the files as they were before an edit the tests rejected (None: remove it)."""
    for path, text in originals.items():
        full = os.path.join(root, path)
        if text is None:
            if os.path.isfile(full):
                os.remove(full)
            continue
        with open(full, "w", encoding="utf-8", errors="surrogateescape", newline="") as f:
            f.write(text)
