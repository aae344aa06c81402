"""Live progress of a run on the terminal, and the end-of-run summary (diff + verdict).

Nearly everything shown here comes from untrusted code: the agent's events and exit message,
the patch, the repository's test names and file names, paths derived from the repository. All
of it goes through `safe_text` (control characters made visible, markup escaped); only the
fixed words and styles of this module are markup.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

from selfcoder.core.safe_text import markup, one_line, text, visible
from selfcoder.validate.protected import REPRODUCTION_NOTE
from selfcoder.validate.reproduction import named


def _plain(value: Any) -> str:
    """A status enum's value, or the value itself."""
    return str(getattr(value, "value", value))


class ProgressPrinter:
    """Turns runner events (typed `selfcoder.core.events` objects or their JSON dicts) into one short
    line each (step, action, tokens, cost)."""

    def __init__(self, console: Console):
        self.console = console

    def __call__(self, event: Any) -> None:
        if hasattr(event, "to_json"):
            event = event.to_json()
        kind = event.get("type")
        c = self.console
        if kind == "attempt" and _int(event.get("of", 1)) > 1:
            c.print(f"[bold]attempt {markup(event.get('n'))} of {markup(event.get('of'))}[/] "
                    f"[dim]temperature {markup(event.get('temperature'))}, seed {markup(event.get('seed'))}[/]")
        elif kind == "run":
            c.print(f"[dim]run {markup(event.get('run_id'))} → {markup(event.get('run_dir'))}[/]")
        elif kind == "phase":
            c.print(f"[cyan]▸ {markup(event.get('phase'))}[/]")
        elif kind == "agent_step":
            n = event.get("n", "?")
            n = f"{n:>2}" if isinstance(n, int) else one_line(n, 8)
            action = one_line(event.get("action", "?"), 24)
            detail = one_line(event.get("detail", ""), 80)
            tokens = _int(event.get("tokens", 0))
            c.print(f"  step {n} · {action:<12} {detail}  [dim]{tokens:,} tokens[/]")
        elif kind == "agent_reproduce":
            c.print(f"  reproduce: {one_line(event.get('status'), 24)} {one_line(event.get('detail', ''), 100)}")
        elif kind == "agent_exit":
            c.print(f"  agent: {one_line(event.get('status'), 40)} {one_line(event.get('message', ''), 120)}")
        elif kind == "verdict":
            c.print(f"  verdict: [bold]{one_line(event.get('status'), 40)}[/]")


def _int(value: Any) -> int:
    """An agent-reported number, or 0 when it is not one (the agent may write anything)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _verdict_json(verdict: Any) -> dict:
    if verdict is None:
        return {}
    if hasattr(verdict, "to_json"):
        return verdict.to_json()
    return verdict if isinstance(verdict, dict) else {}


def print_summary(console: Console, result: Any) -> None:
    """The diff (coloured as a diff, control characters visible), the tests before/after, and the
    status line of a `RunResult`."""
    status = _plain(result.status)
    style = "green" if result.validated else "yellow"
    console.rule(f"[{style}]{markup(status)}[/]")
    if result.patch.strip():
        console.print(Syntax(visible(result.patch), "diff", theme="ansi_dark", word_wrap=True))
    else:
        console.print("(no change)")
    verdict = _verdict_json(result.verdict)
    tests = verdict.get("tests") or {}
    before, after = tests.get("before") or {}, tests.get("after") or {}
    if after:
        table = Table("test", "before", "after")
        for name in sorted(set(before) | set(after)):
            table.add_row(text(name), _colored(before.get(name, "-")), _colored(after.get(name, "-")))
        console.print(table)
    for reason in verdict.get("suspicious") or []:
        console.print(f"[red]not trusted: {markup(reason)}[/]")
    reproduction = list(getattr(result, "reproduction_tests", None) or [])
    restored = [f for f in verdict.get("restored_files") or [] if f not in reproduction]
    if restored:
        console.print(f"[yellow]not tested (kept as in the snapshot): {markup(', '.join(map(str, restored)))}[/]")
    if reproduction:
        shown = named(reproduction, verdict.get("reproduction") or {})
        console.print(f"[cyan]{REPRODUCTION_NOTE}: {markup(shown)}; it is part of the diff, so applying the "
                      "patch (--apply) adds it too[/]")
    usage = result.usage or {}
    console.print(
        f"status [bold]{markup(status)}[/] · agent {markup(result.agent_status or '-')} · "
        f"{usage.get('calls', 0)} calls · {usage.get('total_tokens', 0):,} tokens · "
        f"${usage.get('cost_usd', 0.0):.4f} · {result.duration_s:.1f}s"
    )
    if result.message and not result.validated:
        console.print(f"[dim]{markup(result.message[:300])}[/]")
    console.print(f"[dim]run dir: {markup(result.run_dir)}[/]")


def _colored(status: Any) -> Any:
    status = _plain(status)
    return text(status, {"passed": "green", "-": "dim"}.get(status, "red"))
