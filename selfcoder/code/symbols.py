"""Definitions in one file — classes and functions with their signatures — via tree-sitter.

A signature is the definition's source up to its body (`def f(a, b=1) -> T:`,
`func (p *Point) Norm() float64`, `pub fn parse(s: &str) -> Result<T>`), comments removed
and whitespace collapsed. Members of classes (methods, nested classes) are kept with
their depth; functions nested in functions are left out: the map shows the API, not locals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Node, QueryCursor

from selfcoder.code.languages import Grammar

MAX_SIGNATURE = 160


@dataclass(frozen=True)
class Definition:
    name: str
    kind: str  # "class" | "function"
    signature: str
    line: int  # 1-based
    depth: int  # 0 = top level, 1 = member of a class, ...


def _find_body(node: Node, levels: int = 3) -> Node | None:
    """The `body` field of the node, or of a descendant a few levels down (`const f = () => {}`)."""
    frontier = [node]
    for _ in range(levels + 1):
        nxt = []
        for n in frontier:
            body = n.child_by_field_name("body")
            if body is not None:
                return body
            nxt.extend(n.named_children)
        frontier = nxt
    return None


def signature(node: Node, source: bytes, line_comment: str) -> str:
    body = _find_body(node)
    end = body.start_byte if body is not None and body.start_byte > node.start_byte else node.end_byte
    text = source[node.start_byte:end].decode("utf-8", "replace")
    if body is None:  # no body field: the first line, up to a brace (`type Point struct {`)
        text = text.split("\n", 1)[0].split("{", 1)[0]
    text = re.sub(re.escape(line_comment) + r"[^\n]*", "", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"([(\[]) ", r"\1", text)
    text = re.sub(r",? ([)\]])", r"\1", text)
    text = text.rstrip("{ ").rstrip()
    if len(text) > MAX_SIGNATURE:
        text = text[: MAX_SIGNATURE - 4].rstrip() + " ..."
    return text


def extract_definitions(source: bytes, grammar: Grammar) -> list[Definition]:
    """Classes, their members and top-level functions of `source`, in source order."""
    tree = grammar.parser.parse(source)
    defs: dict[int, tuple[Node, str, str]] = {}  # node id → (node, kind, name)
    for _pattern, captures in QueryCursor(grammar.query).matches(tree.root_node):
        names = captures.get("name")
        for capture, kind in grammar.kinds.items():
            for node in captures.get(capture, ()):
                if names:
                    defs.setdefault(node.id, (node, kind, names[0].text.decode("utf-8", "replace")))
    out = []
    for node, kind, name in defs.values():
        depth, parent, hidden = 0, node.parent, False
        while parent is not None:
            enclosing = defs.get(parent.id)
            if enclosing is not None:
                if enclosing[1] != "class":
                    hidden = True  # inside a function
                    break
                depth += 1
            parent = parent.parent
        if not hidden:
            out.append(Definition(name, kind, signature(node, source, grammar.line_comment),
                                  node.start_point[0] + 1, depth))
    out.sort(key=lambda d: d.line)
    return out
