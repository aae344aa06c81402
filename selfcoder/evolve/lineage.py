"""The lineage picture: the archive's tree as a self-contained SVG (or an HTML page holding it, or a PNG).

Each node shows its id, what it solved of its evaluations and how many it has; invalid and
failed expansions are grey with a red cross-out and their reason as a tooltip; the path from the
root to the best node (stats.best_node, as `archive best`) is drawn thick. Written by hand (no plotting dependency); every text is XML-escaped (reasons and
problem statements come from models).
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from selfcoder.evolve.db import EvalRow, NodeRow

DX, DY, R = 90, 90, 22


def _layout(nodes: list[NodeRow]) -> dict[str, tuple[float, float]]:
    kids: dict[str | None, list[str]] = {}
    for n in nodes:
        kids.setdefault(n.parent, []).append(n.id)
    pos: dict[str, tuple[float, float]] = {}
    next_x = [0]

    def place(node: str, depth: int) -> float:
        children = kids.get(node, [])
        if not children:
            x = next_x[0]
            next_x[0] += 1
        else:
            xs = [place(c, depth + 1) for c in children]
            x = (xs[0] + xs[-1]) / 2
        pos[node] = (x, depth)
        return x

    for root in kids.get(None, []):
        place(root, 0)
    return {k: (40 + x * DX + DX / 2, 40 + d * DY + R) for k, (x, d) in pos.items()}


def _color(score: float | None) -> str:
    if score is None:
        return "#ffffff"
    g = int(80 + 175 * score)
    return f"rgb({255 - int(150 * score)},{g},{120})"


def render_svg(nodes: list[NodeRow], evals: list[EvalRow], best: str | None, tasks: list[str] | None = None) -> str:
    """`tasks`: the search's task set (the evaluations counted, as for the best node)."""
    pos = _layout(nodes)
    by_id = {n.id: n for n in nodes}
    own: dict[str, list[bool]] = {}
    for e in evals:
        if tasks is None or e.task in tasks:
            own.setdefault(e.node, []).append(e.resolved)
    path: set[str] = set()
    node = best
    while node is not None and node in by_id:
        path.add(node)
        node = by_id[node].parent
    width = max((x for x, _ in pos.values()), default=0) + DX
    height = max((y for _, y in pos.values()), default=0) + DY
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
           f'font-family="sans-serif" font-size="11">']
    for n in nodes:
        if n.parent in pos:
            (x1, y1), (x2, y2) = pos[n.parent], pos[n.id]
            thick = n.id in path
            out.append(f'<line x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" y2="{y2:.0f}" stroke="'
                       f'{"#d08000" if thick else "#999"}" stroke-width="{4 if thick else 1.5}"/>')
    for n in nodes:
        x, y = pos[n.id]
        results = own.get(n.id, [])
        score = sum(results) / len(results) if results else None
        tip = escape(n.reason or n.problem or "", quote=True)[:500]
        fill = "#ddd" if not n.valid else _color(score)
        stroke = "#d08000" if n.id in path else ("#c00" if not n.valid else "#333")
        out.append(f'<g class="node{" invalid" if not n.valid else ""}" id="node-{escape(n.id, quote=True)}">'
                   f'<title>{escape(n.id)}: {tip}</title>'
                   f'<circle cx="{x:.0f}" cy="{y:.0f}" r="{R}" fill="{fill}" stroke="{stroke}" stroke-width="2"/>')
        if not n.valid:
            out.append(f'<line x1="{x - R:.0f}" y1="{y - R:.0f}" x2="{x + R:.0f}" y2="{y + R:.0f}" stroke="#c00"/>')
        label = n.status if not n.valid else ("-" if score is None else f"{sum(results)}/{len(results)}")
        out.append(f'<text x="{x:.0f}" y="{y - 3:.0f}" text-anchor="middle" font-weight="bold">{escape(n.id)}</text>'
                   f'<text x="{x:.0f}" y="{y + 10:.0f}" text-anchor="middle">{label}</text>'
                   f'<text x="{x:.0f}" y="{y + R + 12:.0f}" text-anchor="middle" fill="#555">{len(results)} evals</text>'
                   "</g>")
    out.append("</svg>")
    return "\n".join(out)


def write_lineage(out: Path, nodes: list[NodeRow], evals: list[EvalRow], best: str | None,
                  tasks: list[str] | None = None) -> Path:
    """Write the picture as .svg, .html (the SVG in a page with a legend) or .png (the SVG
    rendered by cairo, white background, 2x scale)."""
    from selfcoder.core.errors import SelfcoderError

    svg = render_svg(nodes, evals, best, tasks)
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix in (".html", ".htm"):
        text = (f"<!doctype html><html><head><meta charset='utf-8'><title>selfcoder lineage</title></head><body>"
                f"<h1>Lineage</h1><p>best: {escape(best or '-')} (thick path; the highest 95 % Wilson lower bound "
                f"of the solve rate); grey crossed nodes are invalid or failed; "
                f"hover a node for its problem statement or reason.</p>{svg}</body></html>")
    elif suffix == ".svg":
        text = svg
    elif suffix == ".png":
        out.write_bytes(svg_to_png(svg))
        return out
    else:
        raise SelfcoderError(f"{out}: the lineage is written as .svg, .html or .png")
    out.write_text(text)
    return out


def svg_to_png(svg: str) -> bytes:
    """Render with cairosvg (a dependency; it loads the system's cairo library, `libcairo2`,
    which scripts/setup installs): a clear error, not a traceback, where cairo is missing."""
    from selfcoder.core.errors import SelfcoderError

    try:
        import cairosvg
    except (ImportError, OSError) as e:  # OSError: cairocffi found no libcairo
        raise SelfcoderError("writing a PNG needs cairosvg and the cairo library (pip install cairosvg; "
                             f"Debian/Ubuntu: apt install libcairo2): {str(e).splitlines()[0]}; "
                             "or write the lineage as .svg or .html") from None
    return cairosvg.svg2png(bytestring=svg.encode(), background_color="white", scale=2)
