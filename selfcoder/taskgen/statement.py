"""Problem statements for generated tasks, written from what the failing tests show, never from
the diff.

- `from_tests`: no model. The failing tests' ids and their failure messages (the assertion or
  exception each test reported), plus how many other tests still pass: what a user pasting a
  CI log into an issue would write.
- `from_model`: a model (on the host, through the gateway: keys, budget, usage as for any
  call) writes a bug report from the same evidence plus the failing tests' source. It never
  sees the diff, and a reply that still quotes a changed line (`reveals_fix`) is refused: the
  caller falls back to `from_tests`.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

MAX_TESTS_SHOWN = 5
MESSAGE_SHOWN = 600
SOURCE_LINES = 40

SYSTEM = (
    "You write GitHub issues for a Python library, as a user who hit a bug would. You are given the tests "
    "that fail and what they report. Write a short issue: a title line, what the user did (a minimal "
    "example in a code block, using the library's public API as the tests do), what happened and what "
    "was expected. Do not guess or mention the cause in the library's code, its file, line or fix; do "
    "not mention the test suite or test names. Plain Markdown, under 250 words."
)


def _short(text: str, limit: int = MESSAGE_SHOWN) -> str:
    """At most `limit` characters, whole lines, the end kept (the error lines come last)."""
    lines, kept, size = text.strip().splitlines(), [], 0
    for line in reversed(lines):
        if kept and size + len(line) > limit:
            return "\n".join(["...", *reversed(kept)])
        kept.append(line[:limit])
        size += len(line) + 1
    return "\n".join(reversed(kept))


def from_tests(project: str, fail_to_pass: list[str], messages: dict[str, str], still_passing: int) -> str:
    """A statement naming the failing tests and what they report."""
    n = len(fail_to_pass)
    lines = [f"{n} test{'s' if n != 1 else ''} of {project} fail{'s' if n == 1 else ''}", "",
             f"Running the test suite of {project}, {'this test fails' if n == 1 else f'these {n} tests fail'}:", ""]
    for test in fail_to_pass[:MAX_TESTS_SHOWN]:
        lines.append(f"- `{test}`")
        message = messages.get(test, "").strip()
        if message:
            lines += ["  ```", *("  " + m for m in _short(message).splitlines()), "  ```"]
    if n > MAX_TESTS_SHOWN:
        lines.append(f"- ... and {n - MAX_TESTS_SHOWN} more")
    lines += ["", f"The other {still_passing} tests pass. Make the failing tests pass without changing the tests."]
    return "\n".join(lines) + "\n"


def source_of_test(root: Path, test_id: str) -> str:
    """The source of the test function `test_id` names (`path::Class::name[param]`), or ''."""
    parts = test_id.split("::")
    path = Path(root) / parts[0]
    try:
        text = path.read_text(errors="replace")
        tree = ast.parse(text)
    except (OSError, SyntaxError, ValueError):
        return ""
    names = [p.split("[")[0] for p in parts[1:]]
    node: Any = tree
    for name in names:
        node = next((n for n in getattr(node, "body", []) if getattr(n, "name", None) == name
                     and isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))), None)
        if node is None:
            return ""
    if node is tree:
        return ""
    lines = (ast.get_source_segment(text, node) or "").splitlines()
    return "\n".join(lines[:SOURCE_LINES])


def reveals_fix(text: str, patch: str, min_chars: int = 6) -> str | None:
    """A changed line of `patch` that `text` quotes (stripped of indentation), or None."""
    flat = " ".join(text.split())
    for line in patch.splitlines():
        if line.startswith(("+++", "---")) or not line.startswith(("+", "-")):
            continue
        code = " ".join(line[1:].split())
        if len(code) >= min_chars and code in flat:
            return code
    return None


def model_prompt(project: str, fail_to_pass: list[str], messages: dict[str, str], root: Path) -> list[dict]:
    parts = [f"Library: {project}", "", "Failing tests and what they report:"]
    for test in fail_to_pass[:MAX_TESTS_SHOWN]:
        parts.append(f"- {test}: {_short(messages.get(test, '(no message)'))}")
    for test in fail_to_pass[:2]:
        source = source_of_test(root, test)
        if source:
            parts += ["", f"Source of {test}:", "```python", source, "```"]
    parts += ["", "Write the issue."]
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n".join(parts)}]


def from_model(gateway: Any, project: str, fail_to_pass: list[str], messages: dict[str, str], root: Path,
               patch: str) -> tuple[str | None, str]:
    """(the model's bug report, '') or (None, why it was not used)."""
    from selfcoder.core.errors import SelfcoderError

    try:
        reply = gateway.complete(model_prompt(project, fail_to_pass, messages, root), max_tokens=800)
    except SelfcoderError as e:
        return None, f"the model failed: {e}"
    text = (reply.text or "").strip()
    if not text:
        return None, "the model gave an empty reply"
    leaked = reveals_fix(text, patch)
    if leaked:
        return None, f"the model's report quotes a changed line ({leaked[:60]!r})"
    return text + "\n", ""
