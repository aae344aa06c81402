"""How relevant each file is to a problem: the evidence and its weights.

Evidence, strongest first:
- a path in the failing output (traceback frames `File "x.py", line 3`, `x.py:3:` lines,
  `FAILED tests/t.py::test_a`; more for the frame that raised) or named in the problem text;
- a function or class the problem names (`calc.mean()`, `ParseError`), or a traceback frame
  names (`in mean`), defined in the file; a name defined in many files counts less there;
- a module path (`calc.ops`) the problem names;
- (modest) names the failing tests use that the file defines, and problem names the file
  uses without defining them.
Identifier-shaped words (snake_case, CamelCase, `code`, `f(`, `.attr`) count more than
plain words, which may just be English.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

W_OUTPUT_PATH = 6.0  # a file in the failing output (per mention, capped)
W_PROBLEM_PATH = 8.0  # a file the problem names
W_RAISED = 3.0  # the innermost traceback frame / pytest's `path:line: SomeError` line
W_FAILING_TEST = 2.0  # a failing test's file (on top of its path mention)
W_DEFINES = 5.0  # the file defines a name from the problem / traceback
W_MODULE = 4.0  # the problem names the file's module (`calc.ops`)
W_TEST_REF = 0.5  # the file defines a name a failing test uses
W_USES = 0.3  # the file uses a problem name
MAX_MENTIONS = 3

STOPWORDS = frozenset("""
a an and are as at be but by can could do does for from has have if in into is it its not of on or
should so that the then there this to was were when which while will with would i we you he she they
error errors fail fails failed failing test tests bug issue problem expected instead returns return
value values should wrong work works use used using get gets set none true false self cls def class
function method file line lines call called raise raises exception traceback most recent last
""".split())

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DOTTED = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+\b")
_PATH = re.compile(r"(?:[A-Za-z]:)?[\w./\\-]*[\w-]\.[A-Za-z][A-Za-z0-9]{0,5}\b")
_FRAME_FUNC = re.compile(r'File "[^"]+", line \d+, in ([A-Za-z_][A-Za-z0-9_]*)')
_FRAME_FILE = re.compile(r'File "([^"]+)", line \d+')
_RAISED_AT = re.compile(r"^([\w./\\-]+\.\w+):\d+: \w*(?:Error|Exception|Exit|Interrupt)\b", re.MULTILINE)
_FAILED_TEST = re.compile(r"(?:FAILED|ERROR)\s+([\w./-]+\.\w+)::([\w\[\]:.-]+)")


def identifier_weights(text: str) -> dict[str, float]:
    """Names in free text, weighted by how much they look like code."""
    weights: dict[str, float] = {}
    for m in _IDENT.finditer(text):
        word = m.group(0)
        if len(word) < 3 or word.lower() in STOPWORDS:
            continue
        before = text[m.start() - 1] if m.start() else " "
        after = text[m.end()] if m.end() < len(text) else " "
        code_like = (
            "_" in word.strip("_") or any(c.isdigit() for c in word)
            or (word[0].islower() and any(c.isupper() for c in word)) or sum(c.isupper() for c in word) >= 2
            or before in "`'\"." or after in "`'\"(."
        )
        weights[word] = max(weights.get(word, 0.0), 2.0 if code_like else 0.5)
    return weights


@dataclass
class FileFacts:
    path: str
    defined: set[str]
    used: set[str]


@dataclass
class Scores:
    score: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    reasons: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, path: str, points: float, reason: str) -> None:
        self.score[path] += points
        if reason not in self.reasons[path]:
            self.reasons[path].append(reason)


def is_test_path(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return (name.startswith("test_") or name.endswith(("_test.py", "_test.go", ".test.js", ".test.ts", ".spec.js",
                                                      ".spec.ts")) or "/tests/" in f"/{path}" or "/test/" in f"/{path}")


class PathIndex:
    """Resolves path-like tokens from logs (absolute, `./x`, sandbox paths) to repository files."""

    def __init__(self, paths: list[str]):
        self.by_name: dict[str, list[str]] = defaultdict(list)
        for p in paths:
            self.by_name[p.rsplit("/", 1)[-1]].append(p)

    def resolve(self, token: str) -> list[str]:
        token = token.replace("\\", "/")
        while token.startswith("./"):
            token = token[2:]
        token = token.lstrip("/")
        candidates = self.by_name.get(token.rsplit("/", 1)[-1], [])
        exact = [p for p in candidates if token == p or token.endswith("/" + p)]
        if exact:
            return [max(exact, key=len)]
        return [p for p in candidates if p.endswith("/" + token)]  # a partial path: maybe several


def _mentions(text: str, index: PathIndex) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for m in _PATH.finditer(text):
        hits = index.resolve(m.group(0))
        for p in hits:
            counts[p] += 1
    return counts


def rank_files(files: list[FileFacts], problem: str, failing_output: str = "") -> Scores:
    scores = Scores()
    index = PathIndex([f.path for f in files])
    by_path = {f.path: f for f in files}
    for path, n in _mentions(problem, index).items():
        scores.add(path, W_PROBLEM_PATH * min(n, MAX_MENTIONS) ** 0.5, "named in the problem")
    for path, n in _mentions(failing_output, index).items():
        scores.add(path, W_OUTPUT_PATH * min(n, MAX_MENTIONS) ** 0.5, "in the failing output")

    raised = [frames[-1] for chunk in failing_output.split("Traceback (most recent call last):")[1:]
              if (frames := _FRAME_FILE.findall(chunk))]
    for token in raised + _RAISED_AT.findall(failing_output):
        for path in index.resolve(token):
            if not is_test_path(path):  # a test raising (an assert) says nothing new
                scores.add(path, W_RAISED, "where the error was raised")

    terms = identifier_weights(problem)
    for func in _FRAME_FUNC.findall(failing_output):
        if func != "<module>":
            terms[func] = max(terms.get(func, 0.0), 2.0)
    failing_tests: set[str] = set()
    for test_path, _test_name in _FAILED_TEST.findall(failing_output):
        for p in index.resolve(test_path):
            failing_tests.add(p)
            scores.add(p, W_FAILING_TEST, "failing test file")

    definers: dict[str, int] = defaultdict(int)
    for f in files:
        for name in f.defined:
            definers[name] += 1
    for f in files:
        for name in f.defined & terms.keys():
            scores.add(f.path, W_DEFINES * terms[name] / definers[name], f"defines {name}")
        uses = sum(terms[name] for name in (f.used & terms.keys()) - f.defined)
        if uses:
            scores.add(f.path, W_USES * min(uses, 10.0), "uses names from the problem")

    for dotted in set(_DOTTED.findall(problem)):
        parts = dotted.split(".")
        for cut in range(len(parts), 0, -1):
            stem = "/".join(parts[:cut])
            for p in (stem + ".py", stem + "/__init__.py"):
                for hit in index.resolve(p):
                    if hit not in by_path:
                        continue
                    scores.add(hit, W_MODULE, f"module {'.'.join(parts[:cut])} named")
                    if cut < len(parts) and parts[cut] in by_path[hit].defined:  # `json.dumps`
                        scores.add(hit, W_DEFINES * 2, f"defines {'.'.join(parts[:cut + 1])}")

    test_uses: set[str] = set()
    for p in failing_tests:
        test_uses |= by_path[p].used
    for f in files:
        if f.path in failing_tests:
            continue
        shared = (f.defined & test_uses) - {"self", "cls"}
        if shared:
            scores.add(f.path, W_TEST_REF * min(len(shared), 6), "defines names the failing tests use")
    return scores


def order(files: list[FileFacts], scores: Scores) -> list[str]:
    """Most relevant first; ties: non-test before test, shallower, then alphabetical."""
    return sorted((f.path for f in files),
                  key=lambda p: (-round(scores.score.get(p, 0.0), 6), is_test_path(p), p.count("/"), p))
