"""The Neovim plugin in Neovim's real TUI (in tmux), typed as a user types: `:Selfcoder run` with the
scripted model, progress in the statusline, `:Selfcoder diff` beside the file with the removed and
added lines in different colours, then `:Selfcoder apply` and `:wall`. The diff screen is saved as
a PNG (.artifacts/nvim-run.png) — the checks below are on the captured screen, so a broken picture
fails the test.

The terminal is 80 columns wide, the width most terminals open at: every message the plugin echoes
(the ~100-character "run finished" one included) must fit the message area there, or Neovim stops
at a "Press ENTER" prompt, which fails the run. (The README's docs/nvim-run.png comes from the same
code at 140 columns: `python tests/editors/nvim_tui.py docs/nvim-run.png`.)

tmux and Chromium come from scripts/ensure-editors.sh (run by scripts/test); where they are not
installed the test is skipped, saying so."""

from __future__ import annotations

import os
import shutil

import pytest
from rich.console import Console
from rich.text import Text

from editor_support import ARTIFACTS
from nvim_tui import ADDED, REMOVED, ROWS, Tmux, chromium, record_run, statusline
from terminal_png import png_size, window_size

COLUMNS = 80


def colour_of(ansi_screen: str, needle: str) -> tuple[int, int, int]:
    """The foreground colour Neovim drew `needle` in (the first row holding it)."""
    line = next(row for row in ansi_screen.split("\n") if needle in Text.from_ansi(row).plain)
    text = Text.from_ansi(line)
    style = text.get_style_at_offset(Console(), text.plain.index(needle) + 1)
    assert style.color is not None and style.color.triplet is not None, f"{needle!r} drawn without a colour"
    return tuple(style.color.triplet)


@pytest.mark.timeout(400)
def test_neovim_tui_run_shows_progress_and_the_diff_then_applies(tmp_path, repo, sandbox_env):
    missing = [tool for tool, found in (("tmux", shutil.which("tmux")), ("chromium", chromium())) if not found]
    if missing:
        pytest.skip(f"Neovim TUI screenshot: {', '.join(missing)} not installed (scripts/ensure-editors.sh installs them)")
    png = tmp_path / "nvim-run.png"
    out = record_run(repo, tmp_path, sandbox_env, png, columns=COLUMNS, apply=True)
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(png, ARTIFACTS / "nvim-run.png")

    # progress while the run went, then its result, in the statusline
    assert any("selfcoder …" in statusline(screen) for screen in out["screens"]), [statusline(s) for s in out["screens"]]
    # the run-finished message on one row of the message area, cut to its width, never a prompt
    finished = out["finished"].rstrip()
    assert finished.startswith("selfcoder: run ") and "resolved (1 file" in finished, finished
    assert len(finished) <= COLUMNS - 1 and not any("Press ENTER" in s for s in out["screens"]), finished
    screen = out["text"]
    assert "selfcoder ✓ resolved" in statusline(screen), screen
    # the diff in a split beside the file: both on screen, side by side
    rows = screen.split("\n")
    assert any("def mean(values):" in row and "│" in row for row in rows), screen
    assert ADDED in screen and REMOVED in screen and "patch.diff" in screen, screen
    assert any(row.split("│")[0].rstrip().endswith("count = len(values) - 1") for row in rows)  # buffer unchanged
    # coloured as a diff: removed and added lines differ from each other and from plain text
    added, removed = colour_of(out["ansi"], ADDED), colour_of(out["ansi"], REMOVED)
    plain = colour_of(out["ansi"], "total = sum(values)")
    assert len({added, removed, plain}) == 3, (added, removed, plain)
    assert added[1] > added[0] and removed[0] > removed[1]  # green-ish and red-ish
    # the picture: the whole terminal at the size computed from it, not an empty page
    assert png_size(png) == window_size(COLUMNS, ROWS) and png.stat().st_size > 20_000

    # before apply the file on disk was untouched; after apply + :wall it is fixed
    assert "✓ applied" in statusline(out["applied"]) and "[+]" in out["applied"]
    text = (repo / "calc" / "ops.py").read_text()
    assert "    count = len(values)\n" in text and "len(values) - 1" not in text


def test_tmux_wait_for_survives_the_pane_exiting_right_after_a_check(tmp_path):
    """The race this test file once lost half the time: the program draws its last screen and
    exits between the wait's look at the screen and its "did it exit?" test. A real tmux pane;
    the exit is driven at exactly that moment."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux not installed (scripts/ensure-editors.sh installs it)")
    tmux = Tmux(dict(os.environ))
    try:
        tmux.start(["sh", "-c", "read line; echo DONE-$line"], tmp_path, 80, 24)
        looks = []

        def ready(text: str) -> bool:
            looks.append(text)
            if len(looks) == 1:  # the bad moment: finish the program after this look, before the exit test
                tmux.type("x")
                tmux.wait_exit(60, "sh did not exit")
                return False
            return "DONE-x" in text

        assert "DONE-x" in tmux.wait_for(ready, 60, "DONE never shown")
        assert len(looks) == 2 and tmux.dead()
    finally:
        tmux.close()
