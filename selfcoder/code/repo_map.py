"""The repository map given to the agent with its task: files, classes and functions with
signatures, the files most relevant to the problem first, cut to a character budget.

    calc/ops.py
      def mean(values):
      class Stats(Base):
        def add(self, x) -> None:
    tests/test_ops.py
      def test_mean_of_three():
    README.md

Files without a grammar (or any file past the budget's room for signatures) show as a path
line only. Parsing is local and offline (see `languages.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from selfcoder.code.files import list_files
from selfcoder.code.languages import grammar, language_for, language_status
from selfcoder.code.rank import FileFacts, order, rank_files
from selfcoder.code.symbols import Definition, extract_definitions

MAX_PARSE_BYTES = 500_000
MAX_DEFS_PER_FILE = 40
_IDENT = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class RepoMap:
    text: str
    ranked_files: list[str]  # every file the map knows, most relevant first
    scores: dict[str, float] = field(default_factory=dict)  # files with any evidence
    reasons: dict[str, list[str]] = field(default_factory=dict)
    definitions: dict[str, list[Definition]] = field(default_factory=dict)
    skipped_languages: dict[str, str] = field(default_factory=dict)  # language → why it has no symbols
    truncated: bool = False


def _file_block(path: str, defs: list[Definition], keep: set[str]) -> list[str]:
    """The path line and its definitions; a long list keeps classes and relevant names."""
    lines = [path]
    shown = defs
    if len(defs) > MAX_DEFS_PER_FILE:
        relevant = [d for d in defs if d.name in keep or (d.kind == "class" and d.depth == 0)]
        shown = relevant[:MAX_DEFS_PER_FILE] if relevant else defs[:MAX_DEFS_PER_FILE]
    lines += ["  " * (d.depth + 1) + d.signature for d in shown]
    if len(shown) < len(defs):
        lines.append("  " * 1 + f"... {len(defs) - len(shown)} more definitions")
    return lines


def render(ranked: list[str], definitions: dict[str, list[Definition]], keep: set[str],
           max_chars: int) -> tuple[str, bool]:
    """Blocks in rank order while they fit; the first block that does not fit is cut at a
    line, then the count of files left out."""
    out: list[str] = []
    used = 0
    for i, path in enumerate(ranked):
        block = _file_block(path, definitions.get(path, []), keep)
        remaining = len(ranked) - i
        note = f"... {remaining} more files"
        for j, line in enumerate(block):
            if used + len(line) + 1 + len(note) + 1 > max_chars:
                if j > 0:
                    note = f"... (cut) and {remaining - 1} more files" if remaining > 1 else "... (cut)"
                if used + len(note) + 1 <= max_chars:
                    out.append(note)
                return "\n".join(out), True
            out.append(line)
            used += len(line) + 1
    return "\n".join(out), False


def build_repo_map(root: Path, problem: str, failing_output: str = "", max_chars: int = 6000) -> RepoMap:
    """Map of the repository at `root`, ranked by relevance to `problem` and `failing_output`."""
    root = Path(root)
    facts: list[FileFacts] = []
    definitions: dict[str, list[Definition]] = {}
    skipped: dict[str, str] = {}
    for path in list_files(root):
        defined: set[str] = set()
        used: set[str] = set()
        language = language_for(path)
        g = grammar(language) if language else None
        if language and g is None and language not in skipped:
            skipped[language] = language_status(language) or ""
        if g is not None:
            try:
                source = (root / path).read_bytes()
            except OSError:
                source = b""
            if 0 < len(source) <= MAX_PARSE_BYTES:
                defs = extract_definitions(source, g)
                definitions[path] = defs
                defined = {d.name for d in defs}
                used = {m.decode() for m in _IDENT.findall(source)}
        facts.append(FileFacts(path, defined, used))
    scores = rank_files(facts, problem, failing_output)
    ranked = order(facts, scores)
    keep = {name for reasons in scores.reasons.values() for r in reasons if r.startswith("defines ")
            for name in [r[len("defines "):]]}
    text, truncated = render(ranked, definitions, keep, max_chars)
    return RepoMap(
        text=text,
        ranked_files=ranked,
        scores={p: round(s, 3) for p, s in scores.score.items() if s > 0},
        reasons={p: list(r) for p, r in scores.reasons.items()},
        definitions=definitions,
        skipped_languages={k: v for k, v in skipped.items() if v},
        truncated=truncated,
    )
