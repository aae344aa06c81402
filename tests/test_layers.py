"""selfcoder's import graph, read with `ast`, keeps its layers: a module imports only from its own
layer or those below, and no group of modules imports itself round (module by module, and part by
part: `sandbox` ↔ `validate` would be a cycle too). Lazy imports inside functions count: they are
the same dependency, only later. A new helper that lsp/ and eval/ both want belongs in a lower
layer, not in commands/.

The known exceptions below are today's debts, each with why it is still there; the test also
fails when one is gone, so the list only shrinks.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "selfcoder"

# Lowest first. A module belongs to the longest name listed that is its own name or a package above it.
LAYERS: list[tuple[str, ...]] = [
    # base: no selfcoder machinery, used by everything
    ("selfcoder", "selfcoder.core"),
    # the parts a run is made of
    ("selfcoder.sandbox", "selfcoder.llm", "selfcoder.code"),
    # validation runs tests in a sandbox
    ("selfcoder.validate",),
    # one agent run: sandbox + model + scaffold + validation
    ("selfcoder.solve",),
    # what drives many runs, or one from an editor
    ("selfcoder.pools", "selfcoder.eval", "selfcoder.evolve", "selfcoder.lsp", "selfcoder.taskgen"),
    # the user's commands
    ("selfcoder.commands",),
    ("selfcoder.cli", "selfcoder.__main__"),
]
# commands/ modules shared by several commands; a command imports these, never another command
COMMAND_HELPERS = {"selfcoder.commands.config", "selfcoder.commands.progress", "selfcoder.commands.executor_options"}

# Exceptions, each with why it is still there (none is left; the lists may only shrink).
KNOWN_UP: set[tuple[str, str]] = set()
KNOWN_CYCLES: set[frozenset[str]] = set()


def module_name(path: Path, package: Path) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache
def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """module -> the selfcoder modules it imports (`from pkg import mod` names the module)."""
    files = {module_name(p, package): p for p in package.rglob("*.py") if "demo_repo" not in p.parts}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = here.split(".")[: len(here.split(".")) - node.level + 1]
                    base = ".".join(up + ([node.module] if node.module else []))
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    targets.add(full if full in files else base)
        graph[name] = {t for t in targets if t in files and t != name}
    return graph


def layer_of(module: str) -> int:
    best, found = -1, None
    for index, names in enumerate(LAYERS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and len(name) > best:
                best, found = len(name), index
    assert found is not None, f"{module} is in no layer: add it to LAYERS in {__file__}"
    return found


def arrows_up(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    up = {(a, b) for a, targets in graph.items() for b in targets if layer_of(b) > layer_of(a)}
    commands = {m for m in graph if m.startswith("selfcoder.commands.")}
    up |= {(a, b) for a in commands for b in graph[a] if b in commands and b not in COMMAND_HELPERS}
    return up


def cycles(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """The strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: set[frozenset[str]] = set()

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.add(frozenset(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def part_of(module: str) -> str:
    """selfcoder.sandbox.local -> selfcoder.sandbox; a top-level module is its own part."""
    return ".".join(module.split(".")[:2])


def parts_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    parts: dict[str, set[str]] = {}
    for a, targets in graph.items():
        parts.setdefault(part_of(a), set()).update(part_of(b) for b in targets if part_of(b) != part_of(a))
    return parts


def test_no_import_points_up_a_layer():
    up = arrows_up(import_graph())
    new = sorted(up - KNOWN_UP)
    assert not new, "imports that point up a layer (move the shared code down instead):\n" + "\n".join(
        f"  {a} (layer {layer_of(a)}) -> {b} (layer {layer_of(b)})" for a, b in new)
    assert not KNOWN_UP - up, f"fixed, remove from KNOWN_UP: {sorted(KNOWN_UP - up)}"


def test_no_import_cycles():
    graph = import_graph()
    found = cycles(graph)
    assert not found - KNOWN_CYCLES, f"import cycles: {[sorted(c) for c in found - KNOWN_CYCLES]}"
    assert not KNOWN_CYCLES - found, f"fixed, remove from KNOWN_CYCLES: {[sorted(c) for c in KNOWN_CYCLES - found]}"
    known_parts = {frozenset(part_of(m) for m in c) for c in KNOWN_CYCLES}
    between_parts = {c for c in cycles(parts_graph(graph)) if c not in known_parts}
    assert not between_parts, f"parts that import each other: {[sorted(c) for c in between_parts]}"


def test_the_checks_catch_an_arrow_up_and_a_cycle(tmp_path):
    """The checks above on a made-up package: an llm module importing the runner, and a cycle."""
    pkg = tmp_path / "selfcoder"
    for part in ("llm", "core", "solve"):
        (pkg / part).mkdir(parents=True)
        (pkg / part / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "core" / "errors.py").write_text("")
    (pkg / "solve" / "runner.py").write_text("from selfcoder.llm import gateway\nfrom ..core import errors\n")
    (pkg / "llm" / "gateway.py").write_text("def f():\n    from selfcoder.solve import runner\n")
    graph = import_graph(pkg)
    assert graph["selfcoder.solve.runner"] == {"selfcoder.llm.gateway", "selfcoder.core.errors"}
    assert arrows_up(graph) == {("selfcoder.llm.gateway", "selfcoder.solve.runner")}
    assert cycles(graph) == {frozenset({"selfcoder.solve.runner", "selfcoder.llm.gateway"})}
    assert cycles(parts_graph(graph)) == {frozenset({"selfcoder.solve", "selfcoder.llm"})}
