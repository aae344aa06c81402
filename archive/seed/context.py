"""What the first prompt shows besides the problem, so that a small model can fix the bug in
ONE reply (measured: a 1.5B model returns a correct whole file, but cannot drive a multi-turn
exploration): the files most likely involved, whole when small, else excerpts around the
names the problem mentions.

Relevance order: the runner's hints, paths named in the problem, files that define
(def/class/function) identifiers the problem mentions, then paths in the failing test output
(source before tests: shown the test file first, a 1.5B model echoed it back unchanged).
"""

import os
import re
import subprocess

SKIP_DIRS = {".git", "node_modules", "__pycache__", ".venv", "venv", ".tox", "build", "dist"}
SOURCE_EXT = (".py", ".js", ".ts", ".go", ".rs", ".java", ".rb", ".c", ".h", ".cpp", ".php")
COMMON = {"self", "None", "True", "False", "the", "and", "for", "def", "class", "return", "import",
          "from", "with", "this", "that", "test", "tests", "error", "value", "file", "path"}


def list_files(root, limit=20000):
    """Repository files, relative paths: git's tracked files and the new ones it does not ignore
    (a reproduction test the agent wrote), else a directory walk."""
    try:
        out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=root, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, timeout=30).stdout.decode("utf-8", "replace")
        files = [f for f in out.splitlines() if f]
        if files:
            return files[:limit]
    except (OSError, subprocess.SubprocessError):
        pass
    files = []
    for top, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        files += [os.path.relpath(os.path.join(top, n), root) for n in sorted(names)]
        if len(files) >= limit:
            break
    return files[:limit]


def identifiers(text):
    """Names worth looking up: `quoted`, CamelCase, snake_case and called() names."""
    found = re.findall(r"`([A-Za-z_]\w*)", text) + re.findall(r"\b[A-Z][a-z0-9]+[A-Z]\w*", text)
    found += re.findall(r"\b[a-z]\w*_\w+\b", text) + re.findall(r"\b([A-Za-z_]\w*)\(", text)
    seen = []
    for name in found:
        if len(name) >= 3 and name not in COMMON and name not in seen:
            seen.append(name)
    return seen[:30]


def relevant_files(root, files, task, test_output, limit):
    """Up to `limit` repository paths, most relevant first."""
    ranked = [p for p in (task.get("hints") or {}).get("files") or [] if p in files]
    ranked += _named(files, task.get("problem_statement") or "")
    names = identifiers(task.get("problem_statement") or "")
    if names:
        pattern = re.compile(r"\b(?:def|class|function|func|fn)\s+(%s)\b" % "|".join(map(re.escape, names)))
        scores = []
        for f in files[:5000]:
            if f.endswith(SOURCE_EXT):
                text = _read(os.path.join(root, f), 1000000)
                n = len(pattern.findall(text))
                if n:
                    scores.append((-n, f))
        ranked += [f for _, f in sorted(scores)]
    ranked += _named(files, test_output or "")
    unique = []
    for f in ranked:
        if f not in unique and os.path.isfile(os.path.join(root, f)):
            unique.append(f)
    return unique[:limit]


def _named(files, text):
    """Repository files that `text` names (by path, or by a name that fits at most two files)."""
    found = []
    for token in sorted(set(re.findall(r"[\w./\-]+\.\w+", text))):
        token = re.sub(r"^\./", "", token)
        hits = [f for f in files if f == token or f.endswith("/" + token) or token.endswith("/" + f)]
        found += sorted(hits) if 0 < len(hits) <= 2 else []
    return found


def show_files(root, paths, names, budget):
    """(text, paths shown whole): each file as its path line and a fenced block; files too big
    for the remaining budget as excerpts around the lines that mention `names`."""
    parts, whole = [], []
    for path in paths:
        text = _read(os.path.join(root, path), 2000000)
        fence = "````" if "```" in text else "```"
        if len(text) + 40 <= budget:
            parts.append("%s\n%s\n%s\n%s" % (path, fence, text.rstrip("\n"), fence))
            whole.append(path)
        elif budget > 1500:
            lines = text.splitlines()
            hits = [n for n, line in enumerate(lines) if any(x in line for x in names)] or [0]
            keep = sorted({k for n in hits for k in range(max(0, n - 15), min(len(lines), n + 25))})
            shown, size, prev = [], 0, -2
            for k in keep:
                size += len(lines[k]) + 1
                if size > budget - 300:
                    break
                if k != prev + 1:
                    shown.append("... (line %d)" % (k + 1))
                shown.append(lines[k])
                prev = k
            parts.append("Excerpts of %s (%d lines in all; not the whole file):\n%s\n%s\n%s"
                         % (path, len(lines), fence, "\n".join(shown), fence))
        else:
            break
        budget -= len(parts[-1])
    return "\n\n".join(parts), whole


def _read(full, limit):
    try:
        with open(full, encoding="utf-8", errors="replace") as f:
            return f.read(limit)
    except OSError:
        return ""
