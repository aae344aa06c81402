"""Localisation: from the failing tests' output to the few functions worth showing the model.

Why: a 1.5B model cannot find the bug by driving a shell, but fixes a function it is shown. The
tests already say where to look: a traceback frame in the repository's own (non-test) code lies
inside the buggy function or next to it, and a failing test calls the function under test.
Frames outside the workspace (site-packages, the standard library, /etc) are ignored. A plain
`ast` scan finds the functions; no third-party parser is needed.
"""

import ast
import os
import re

import context

FRAME_RES = (re.compile(r'File "([^"]+)", line (\d+)'),  # Python / unittest tracebacks
             re.compile(r"^(\S+\.py):(\d+):", re.M))  # pytest location lines
PYTEST_ID_RE = re.compile(r"^(?:FAILED|ERROR) (\S+\.py)::(\S+)", re.M)
UNITTEST_ID_RE = re.compile(r"^(?:FAIL|ERROR): (\w+) \(([\w.]+)\)", re.M)
OUTSIDE = {"site-packages", "dist-packages", ".venv", "venv", ".tox", "node_modules"}


def is_test_file(path):
    parts = path.replace("\\", "/").split("/")
    name = parts[-1]
    return (name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"
            or any(p in ("tests", "test", "testing") for p in parts[:-1]))


def failing_ids(output):
    """The failing tests' ids (pytest `FAILED a.py::name`, unittest `FAIL: name (mod.Class)`)."""
    ids = ["%s::%s" % m for m in PYTEST_ID_RE.findall(output)]
    return ids + ["%s::%s" % (mod, name) for name, mod in UNITTEST_ID_RE.findall(output)]


def in_repo(root, path, files):
    """The repository-relative path of a traceback's file, or None when it lies outside."""
    top = os.path.realpath(root)
    full = os.path.realpath(path if os.path.isabs(path) else os.path.join(root, path))
    rel = os.path.relpath(full, top) if full.startswith(top + os.sep) else None
    if rel is None and not os.path.isabs(path):  # pytest prints paths relative to its rootdir
        hits = [f for f in files if f.endswith("/" + path)]
        rel = hits[0] if len(hits) == 1 else None
    if rel is None or not rel.endswith(".py") or OUTSIDE & set(rel.split(os.sep)):
        return None
    return rel if os.path.isfile(os.path.join(top, rel)) else None


def frames(root, output, files):
    """[(path, line)] of the traceback frames inside the repository, in order of appearance."""
    found = []
    hits = sorted((m.start(), m.group(1), int(m.group(2))) for regex in FRAME_RES for m in regex.finditer(output))
    for _, path, line in hits:
        rel = in_repo(root, path, files)
        if rel and (not found or found[-1] != (rel, line)):
            found.append((rel, line))
    return found


def functions(root, path):
    """[dict] of the functions and methods defined in a Python file (empty if it does not parse)."""
    try:
        with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return []
    found = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                start = min([d.lineno for d in child.decorator_list] + [child.lineno])
                found.append({"path": path, "name": child.name, "qualname": prefix + child.name, "start": start,
                              "def": child.lineno, "end": child.end_lineno, "node": child})
            if isinstance(child, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, prefix + child.name + ".")
    visit(tree, "")
    return found


def enclosing(defs, line):
    """The innermost function of `defs` whose lines hold `line`, or None."""
    hits = [d for d in defs if d["start"] <= line <= d["end"]]
    return min(hits, key=lambda d: d["end"] - d["start"]) if hits else None


def called_names(node):
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            f = sub.func
            names.add(f.id if isinstance(f, ast.Name) else getattr(f, "attr", None))
    return names - {None}


def candidates(root, task, output, max_functions, max_lines):
    """Up to `max_functions` functions to show, best first: each a dict with path, qualname,
    start/end lines (1-based, decorators included) and `why`."""
    files = [f for f in context.list_files(root) if f.endswith(".py")][:3000]
    defs = {f: functions(root, f) for f in files}
    scores, why = {}, {}

    def vote(d, points, reason):
        key = (d["path"], d["qualname"])
        scores[key] = scores.get(key, 0) + points
        why.setdefault(key, (d, []))[1].append(reason)

    tests, inner = [], None  # the failing test functions (by frame, then by test id); the deepest frame
    for path, line in frames(root, output, files) + [("", 0)]:
        d = enclosing(defs.get(path, []), line)
        if inner and not (d and not is_test_file(path)):  # a failure's last frame in the code: the crash
            vote(inner, 6, "its deepest frame")
        inner = d if d and not is_test_file(path) else None
        if d and is_test_file(path):
            tests.append(d)
        elif d:
            vote(d, 6, "traceback line %d" % line)
    for test_id in failing_ids(output):
        mod, name = test_id.split("::", 1)
        parts = [mod] if mod.endswith(".py") else mod.split(".")  # unittest: package.module.Class
        paths = [mod] if mod.endswith(".py") else ["/".join(parts[:k]) + ".py" for k in range(len(parts), 0, -1)]
        name = name.split("[")[0].split("::")[-1]
        tests += [d for p in paths for d in defs.get(p, []) if d["name"] == name]
    index = {}
    for f, found in defs.items():
        for d in found if not is_test_file(f) else ():
            index.setdefault(d["name"], []).append(d)
    for test in {(t["path"], t["qualname"]): t for t in tests}.values():
        for name in called_names(test["node"]):
            for d in index.get(name, []) if len(index.get(name, [])) <= 3 else ():
                vote(d, 5 + 3 * (name in test["name"]), "called by %s" % test["name"])
    problem, hints = task.get("problem_statement") or "", (task.get("hints") or {}).get("files") or []
    for key in list(scores):
        d = why[key][0]
        if re.search(r"\b%s\b" % re.escape(d["name"]), problem):
            vote(d, 4, "named in the problem")
        if d["path"] in hints or d["path"] in (task.get("repo_map") or ""):
            vote(d, 1, "hinted")
    ranked = sorted(scores, key=lambda k: (-scores[k], k))
    chosen = [why[k][0] for k in ranked if why[k][0]["end"] - why[k][0]["start"] < max_lines]
    return [dict({k: v for k, v in d.items() if k != "node"}, why=", ".join(why[(d["path"], d["qualname"])][1]))
            for d in chosen[:max_functions]]
