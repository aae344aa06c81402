"""Live progress of a run on the terminal, and the end-of-run summary (diff + verdict)."""

from __future__ import annotations

from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

from selfcoder.runner import RunResult


class ProgressPrinter:
    """Turns runner events into one short line each (step, action, tokens, cost)."""

    def __init__(self, console: Console):
        self.console = console

    def __call__(self, event: dict) -> None:
        kind = event.get("type")
        c = self.console
        if kind == "attempt" and event.get("of", 1) > 1:
            c.print(f"[bold]attempt {event['n']} of {event['of']}[/]")
        elif kind == "run":
            c.print(f"[dim]run {event['run_id']} → {event['run_dir']}[/]")
        elif kind == "phase":
            c.print(f"[cyan]▸ {event['phase']}[/]")
        elif kind == "agent_step":
            detail = str(event.get("detail", "")).replace("\n", " ")[:80]
            c.print(f"  step {event.get('n', '?'):>2} · {event.get('action', '?'):<12} {detail}"
                    f"  [dim]{event.get('tokens', 0):,} tokens[/]")
        elif kind == "agent_exit":
            c.print(f"  agent: {event.get('status')} {event.get('message', '')[:120]}")
        elif kind == "verdict":
            c.print(f"  verdict: [bold]{event['status']}[/]")


def print_summary(console: Console, result: RunResult) -> None:
    style = "green" if result.validated else "yellow"
    console.rule(f"[{style}]{result.status}[/]")
    if result.patch.strip():
        console.print(Syntax(result.patch, "diff", theme="ansi_dark", word_wrap=True))
    else:
        console.print("(no change)")
    tests = (result.verdict or {}).get("tests") or {}
    before, after = tests.get("before") or {}, tests.get("after") or {}
    if after:
        table = Table("test", "before", "after")
        for name in sorted(set(before) | set(after)):
            table.add_row(name, _colored(before.get(name, "-")), _colored(after.get(name, "-")))
        console.print(table)
    usage = result.usage or {}
    console.print(
        f"status [bold]{result.status}[/] · agent {result.agent_status or '-'} · "
        f"{usage.get('calls', 0)} calls · {usage.get('total_tokens', 0):,} tokens · "
        f"${usage.get('cost_usd', 0.0):.4f} · {result.duration_s:.1f}s"
    )
    if result.message and not result.validated:
        console.print(f"[dim]{result.message[:300]}[/]")
    console.print(f"[dim]run dir: {result.run_dir}[/]")


def _colored(status: str) -> str:
    color = {"passed": "green", "-": "dim"}.get(status, "red")
    return f"[{color}]{status}[/]"
