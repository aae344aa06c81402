"""Procedural bugs: small AST mutations of one Python module, as SWE-smith makes them.

    sites = find_sites(source)                 # every place an operator applies, in a fixed order
    mutated = apply(source, sites[3])          # the module's text with that one change, or None

Operators (`OPERATORS`): flip a comparison (`<` ↔ `>=`, `==` ↔ `!=`, `in` ↔ `not in` ...),
flip an arithmetic operator (`+` ↔ `-`, `*` ↔ `/` ...), flip a boolean operator (`and` ↔ `or`),
off-by-one on an int constant or a slice bound, invert an `if` condition, drop a statement,
swap the operands of a non-commutative operation, change a constant (`True` ↔ `False`, a
number to 0 or 1).

Only the text of the mutated node changes (the rest of the file, comments included, stays
byte for byte), so the fix is a one- or few-line diff. Every edit is checked: the new text
must parse to exactly the mutated tree, else the site is skipped (returns None). Sites are
listed in `ast.walk` order, so the same source and site always give the same mutant.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass
from typing import Callable, Iterator

COMPARE_FLIPS = {ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE, ast.LtE: ast.Gt, ast.Eq: ast.NotEq,
                 ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}
ARITH_FLIPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.FloorDiv, ast.Div: ast.Mult,
               ast.FloorDiv: ast.Mult, ast.Mod: ast.FloorDiv, ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd,
               ast.LShift: ast.RShift, ast.RShift: ast.LShift}
NON_COMMUTATIVE = (ast.Sub, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.LShift, ast.RShift)
ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)
UNDROPPABLE = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom, ast.Global,
               ast.Nonlocal, ast.Pass)


@dataclass(frozen=True)
class Site:
    """One mutation: operator `op` on the `index`-th node (in `ast.walk` order) it applies to."""

    op: str
    index: int
    lineno: int  # where, for the progress log and the instance's metadata

    def key(self) -> str:
        return f"{self.op}@{self.index}"


def _is_docstring(stmt: ast.stmt, body: list[ast.stmt]) -> bool:
    return (stmt is body[0] and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str))


def _int_constant(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int


def _one_line(node: ast.AST) -> bool:
    return getattr(node, "lineno", None) is not None and node.lineno == node.end_lineno


# -- operators: each yields the nodes it applies to and mutates a (copied) node in place -----------


def _flip_comparison(node: ast.AST, rng_bit: int) -> bool:
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in COMPARE_FLIPS:
        node.ops = [COMPARE_FLIPS[type(node.ops[0])]()]
        return True
    return False


def _flip_operator(node: ast.AST, rng_bit: int) -> bool:
    if isinstance(node, ast.BinOp) and type(node.op) in ARITH_FLIPS:
        node.op = ARITH_FLIPS[type(node.op)]()
        return True
    if isinstance(node, ast.AugAssign) and type(node.op) in ARITH_FLIPS:
        node.op = ARITH_FLIPS[type(node.op)]()
        return True
    return False


def _flip_boolean(node: ast.AST, rng_bit: int) -> bool:
    if isinstance(node, ast.BoolOp):
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        return True
    return False


def _off_by_one(node: ast.AST, rng_bit: int) -> bool:
    """An int constant ±1 (the direction from the site), or `x[a:b]` → `x[a:b + 1]` for a non-constant bound."""
    if _int_constant(node) and node.value < 1 << 30:
        node.value = node.value + (1 if rng_bit or node.value == 0 else -1)
        return True
    if isinstance(node, ast.Slice):
        for name in ("upper", "lower"):
            bound = getattr(node, name)
            if bound is not None and not _int_constant(bound) and not isinstance(bound, ast.UnaryOp):
                setattr(node, name, ast.BinOp(bound, ast.Add() if rng_bit else ast.Sub(), ast.Constant(1)))
                return True
    return False


def _invert_if(node: ast.AST, rng_bit: int) -> bool:
    if isinstance(node, ast.If):
        node.test = ast.UnaryOp(ast.Not(), node.test)
        return True
    return False


def _swap_operands(node: ast.AST, rng_bit: int) -> bool:
    if isinstance(node, ast.BinOp) and isinstance(node.op, NON_COMMUTATIVE):
        node.left, node.right = node.right, node.left
        return True
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ORDERING):
        node.left, node.comparators = node.comparators[0], [node.left]
        return True
    return False


def _change_constant(node: ast.AST, rng_bit: int) -> bool:
    if isinstance(node, ast.Constant) and type(node.value) is bool:
        node.value = not node.value
        return True
    if isinstance(node, ast.Constant) and type(node.value) in (int, float) and node.value not in (0, 1):
        node.value = type(node.value)(rng_bit)  # a "magic number" becomes 0 or 1
        return True
    return False


NodeOp = Callable[[ast.AST, int], bool]
OPERATORS: dict[str, NodeOp | None] = {
    "flip_comparison": _flip_comparison,
    "flip_operator": _flip_operator,
    "flip_boolean": _flip_boolean,
    "off_by_one": _off_by_one,
    "invert_if": _invert_if,
    "drop_statement": None,  # works on a body, not a node: `_drop_candidates`
    "swap_operands": _swap_operands,
    "change_constant": _change_constant,
}


def _drop_candidates(tree: ast.AST) -> Iterator[tuple[list[ast.stmt], int]]:
    """(body, position) of every statement that can go: the body keeps another statement."""
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            body = getattr(node, field, None)
            if not isinstance(body, list) or len(body) < 2 or not isinstance(body[0], ast.stmt):
                continue
            for i, stmt in enumerate(body):
                if isinstance(stmt, UNDROPPABLE) or _is_docstring(stmt, body):
                    continue
                if i == 1 and _is_docstring(body[0], body) and len(body) == 2:
                    continue  # only the docstring would be left
                yield body, i


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and _is_docstring(body[0], body):
            ids.add(id(body[0].value))
    return ids


def _applicable(tree: ast.AST, op: str) -> list[ast.AST]:
    fn = OPERATORS[op]
    skip = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if id(node) in skip or isinstance(node, (ast.JoinedStr, ast.FormattedValue)):
            continue
        if fn(copy.copy(node), 0):  # operators only assign attributes: a shallow copy is enough
            found.append(node)
    return found


def find_sites(source: str, operators: list[str] | None = None) -> list[Site]:
    """Every mutation site of `source` (a module), operator by operator, in a fixed order."""
    tree = ast.parse(source)
    sites = []
    for op in operators or list(OPERATORS):
        if op not in OPERATORS:
            raise ValueError(f"unknown mutation operator '{op}' (known: {', '.join(OPERATORS)})")
        if op == "drop_statement":
            sites += [Site(op, n, body[i].lineno) for n, (body, i) in enumerate(_drop_candidates(tree))]
        else:
            sites += [Site(op, n, getattr(node, "lineno", 0)) for n, node in enumerate(_applicable(tree, op))]
    return sites


# -- text edits --------------------------------------------------------------------------------------


def _offsets(lines: list[str]) -> list[int]:
    """Byte offset (in characters of the decoded text) where each 1-based line starts."""
    starts, total = [0, 0], 0
    for line in lines:
        total += len(line)
        starts.append(total)
    return starts


def _span(source: str, node: ast.AST) -> tuple[int, int]:
    """[start, end) of `node` in `source` (col offsets are UTF-8 bytes: converted per line)."""
    lines = source.splitlines(keepends=True)
    starts = _offsets(lines)

    def at(lineno: int, col: int) -> int:
        line = lines[lineno - 1]
        return starts[lineno] + len(line.encode()[:col].decode(errors="replace"))

    return at(node.lineno, node.col_offset), at(node.end_lineno, node.end_col_offset)


def _matches(text: str, expected: ast.AST) -> bool:
    try:
        return ast.dump(ast.parse(text)) == ast.dump(expected)
    except (SyntaxError, ValueError, RecursionError):
        return False


def _replace_node(source: str, tree: ast.AST, original: ast.AST, new: ast.AST, mutated_tree: ast.AST) -> str | None:
    start, end = _span(source, original)
    if isinstance(original, ast.If):  # only the condition's text changes
        start, end = _span(source, original.test)
        seg = source[start:end]
        for text in (f"not {seg}", f"not ({seg})"):
            candidate = source[:start] + text + source[end:]
            if _matches(candidate, mutated_tree):
                return candidate
        return None
    if not _one_line(original):
        return None
    try:
        body = ast.unparse(new)
    except Exception:  # noqa: BLE001 - a node unparse cannot write
        return None
    if isinstance(new, ast.AugAssign):
        body = body.strip()
    for text in (body, f"({body})"):
        candidate = source[:start] + text + source[end:]
        if _matches(candidate, mutated_tree):
            return candidate
    return None


def _drop(source: str, tree: ast.AST, site: Site) -> str | None:
    candidates = list(_drop_candidates(tree))
    if site.index >= len(candidates):
        return None
    body, i = candidates[site.index]
    stmt = body[i]
    lines = source.splitlines(keepends=True)
    first, last = stmt.lineno - 1, stmt.end_lineno - 1
    before = lines[first].encode()[: stmt.col_offset].decode(errors="replace")
    after = lines[last].encode()[stmt.end_col_offset:].decode(errors="replace")
    if before.strip() or (after.strip() and not after.strip().startswith("#")):
        return None  # shares its line with another statement
    del body[i]
    candidate = "".join(lines[:first] + lines[last + 1:])
    return candidate if _matches(candidate, tree) else None


def apply(source: str, site: Site) -> str | None:
    """`source` with mutation `site` made, or None when it cannot be written as a clean edit."""
    tree = ast.parse(source)
    if site.op == "drop_statement":
        return _drop(source, tree, site)
    nodes = _applicable(tree, site.op)
    if site.index >= len(nodes):
        return None
    original = nodes[site.index]
    new = copy.deepcopy(original)
    rng_bit = site.index % 2  # the direction of an off-by-one / the new constant: fixed by the site
    OPERATORS[site.op](new, rng_bit)
    mutated_tree = _replace_in_tree(tree, original, new)
    result = _replace_node(source, tree, original, new, mutated_tree)
    return result if result is not None and result != source else None


def _replace_in_tree(tree: ast.AST, old: ast.AST, new: ast.AST) -> ast.AST:
    """A copy of `tree` with the node `old` (by identity) replaced by `new`."""

    class Swap(ast.NodeTransformer):
        def visit(self, node):
            if node is old:
                return new
            return super().visit(node)

    return Swap().visit(copy.deepcopy(tree, memo={id(old): old, id(new): new}))
