"""A selfcoder run in real Neovim's real TUI, inside tmux, as a user types it: open a file of the
fixture repository, `:Selfcoder run <problem>` (the scripted model), watch the statusline until
the run ends, `:Selfcoder diff`; then the screen (`tmux capture-pane -e -p`) becomes a PNG
(terminal_png: rich -> HTML -> headless Chromium).

Why tmux: it is a real terminal for Neovim (a pty, 24-bit colours, a fixed size) that needs no
display, and its capture-pane gives back exactly the cells Neovim drew, colours included.

tests/editors/test_nvim_tui.py drives it (the screenshot is a test artifact); the README's
picture comes from the same code:

    .venv/bin/python tests/editors/nvim_tui.py docs/nvim-run.png
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/waiting.py, also when run as a script

from editor_support import CALC_PROBLEM, FIXTURES, REPO_ROOT, find_nvim, user_settings
from terminal_png import ansi_to_png
from waiting import wait_steady, wait_until

HERE = Path(__file__).resolve().parent
COLUMNS, ROWS = 140, 36
ADDED, REMOVED = "+    count = len(values)", "-    count = len(values) - 1"


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Tmux:
    """One private tmux server (its own socket and config) running one session."""

    def __init__(self, env: dict):
        self.dir = Path(tempfile.mkdtemp(prefix="sc-tmux-"))  # short: a socket path is <= 107 bytes
        (self.dir / "tmux.conf").write_text(
            "set -g default-terminal tmux-256color\nset -g status off\nset -g remain-on-exit on\n"
            "set -g escape-time 0\nset -ga terminal-features ',*:RGB'\n")
        self.env = {k: v for k, v in env.items() if k not in ("TMUX", "TMUX_PANE")}

    def tmux(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(["tmux", "-S", str(self.dir / "sock"), "-f", str(self.dir / "tmux.conf"), *args],
                              env=self.env, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        if check and done.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def start(self, argv: list[str], cwd: Path, columns: int, rows: int) -> None:
        self.tmux("new-session", "-d", "-s", "main", "-x", str(columns), "-y", str(rows), "-c", str(cwd),
                  shlex.join(argv))

    def type(self, text: str, enter: bool = True) -> None:
        self.tmux("send-keys", "-t", "main", "-l", text)
        if enter:
            self.tmux("send-keys", "-t", "main", "Enter")

    def screen(self, ansi: bool = False) -> str:
        return self.tmux("capture-pane", "-p", "-t", "main", *(["-e"] if ansi else []))

    def dead(self) -> bool:
        return self.tmux("display-message", "-p", "-t", "main", "#{pane_dead}", check=False).strip() != "0"

    def wait_for(self, ready, timeout: float, what: str, seen: list[str] | None = None) -> str:
        """Poll the screen until ready(text); each distinct screen goes to `seen`. Stops early (after
        one more look) when Neovim exits or stops at a hit-enter prompt."""
        last = [""]

        def check() -> str | None:
            text = last[0] = self.screen()
            if seen is not None and (not seen or seen[-1] != text):
                seen.append(text)
            return (text or "\n") if ready(text) else None

        def gave_up() -> str | None:
            if "Press ENTER or type command to continue" in last[0]:  # a message wider than the window
                return "Neovim stopped at a hit-enter prompt"
            return "Neovim exited" if self.dead() else None

        return wait_until(check, timeout, what, gave_up=gave_up, detail=lambda: f"the screen:\n{last[0]}")

    def wait_exit(self, timeout: float, what: str) -> None:
        """Wait until the pane's process has exited (the pane stays: remain-on-exit)."""
        wait_until(self.dead, timeout, what, detail=lambda: f"the screen:\n{self.screen()}")

    def steady_screen(self) -> str:
        """The screen once a redraw has landed: two captures in a row agree."""
        return wait_steady(self.screen, 30, "the screen kept changing")

    def close(self) -> None:
        self.tmux("kill-server", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


def command_line(text: str) -> str:
    """The screen's last row: Neovim's message area."""
    lines = text.rstrip("\n").split("\n")
    return lines[-1] if lines else ""


def statusline(text: str) -> str:
    """The last statusline on the screen (the row above the command line)."""
    lines = text.rstrip("\n").split("\n")
    return lines[-2] if len(lines) >= 2 else ""


def record_run(repo: Path, workdir: Path, sandbox_root: Path, png: Path, *, problem: str = CALC_PROBLEM,
               settings: dict | None = None, columns: int = COLUMNS, rows: int = ROWS, scale: int = 1,
               apply: bool = False) -> dict:
    """Run selfcoder in Neovim's TUI on `repo`, show the diff, save the screen to `png`; with `apply`,
    then `:Selfcoder apply` and `:wall`. Returns the screens seen while the run went, the diff
    screen (text and ANSI), and with `apply` the screens after applying and after saving."""
    nvim, browser = find_nvim(), chromium()
    if nvim is None or browser is None or shutil.which("tmux") is None:
        raise RuntimeError("needs Neovim >= 0.10, tmux and chromium (scripts/ensure-editors.sh installs them)")
    env = {**os.environ, "PLUGIN": str(REPO_ROOT / "editors" / "nvim"),
           "SETTINGS": json.dumps(settings if settings is not None else user_settings(workdir)),
           "SELFCODER_PYTHON": sys.executable, "SELFCODER_CONFIG": str(workdir / "none.toml"),
           "SELFCODER_SANDBOX_ROOT": str(sandbox_root), "XDG_STATE_HOME": str(workdir / "state"),
           "XDG_DATA_HOME": str(workdir / "data"), "XDG_CONFIG_HOME": str(workdir / "config"),
           "XDG_CACHE_HOME": str(workdir / "cache"), "COLORTERM": "truecolor", "LANG": "C.UTF-8"}
    tmux = Tmux(env)
    seen: list[str] = []
    applied = saved = finished = ""
    try:
        tmux.start([nvim, "-u", str(HERE / "nvim_tui_init.lua"), "-i", "NONE", "calc/ops.py"], repo, columns, rows)
        tmux.wait_for(lambda s: "def mean(values):" in s, 60, "Neovim did not show calc/ops.py")
        tmux.type(f":Selfcoder run {problem}")
        done = tmux.wait_for(lambda s: "selfcoder ✓" in statusline(s) or "selfcoder ✗" in statusline(s), 240,
                             "the run did not finish in the statusline", seen)
        if "selfcoder ✓ resolved" not in statusline(done):  # the transcript says why
            tmux.type(":Selfcoder log")
            raise AssertionError(f"the run was not resolved: {statusline(done).strip()}\n{tmux.steady_screen()}")
        # the "run finished" message, on the command line (a hit-enter prompt instead fails wait_for)
        finished = command_line(tmux.wait_for(lambda s: "resolved (1 file" in command_line(s), 60,
                                              "no run-finished message", seen))
        tmux.type(":Selfcoder diff")
        tmux.wait_for(lambda s: ADDED in s and "patch.diff" in s, 60, "no diff split", seen)
        text = tmux.steady_screen()
        ansi = tmux.screen(ansi=True)
        ansi_to_png(ansi, columns, rows, png, html=workdir / "nvim-run.html", chromium=browser, scale=scale)
        if apply:  # back to calc/ops.py, apply through the server into the buffer, save it
            tmux.type(":wincmd p")
            tmux.type(":Selfcoder apply")
            applied = tmux.wait_for(lambda s: "✓ applied" in s and "[+]" in s, 60, "not applied to the buffer")
            tmux.type(":wall")
            saved = tmux.wait_for(lambda s: "written" in s.rstrip("\n").split("\n")[-1], 60, ":wall did not write")
        tmux.type("\x1b", enter=False)
        tmux.type(":qa!")
        tmux.wait_exit(60, "Neovim did not quit")
    finally:
        tmux.close()
    return {"screens": seen, "text": text, "ansi": ansi, "png": png, "applied": applied, "saved": saved,
            "finished": finished}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Screenshot of a selfcoder run in Neovim (README picture).")
    parser.add_argument("png", nargs="?", default=str(REPO_ROOT / "docs" / "nvim-run.png"))
    parser.add_argument("--scale", type=int, default=1, help="device pixels per CSS pixel")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="selfcoder-nvim-shot-"))
    sandboxes = Path(tempfile.mkdtemp(prefix="selfcoder-test-sandboxes-"))
    sandboxes.chmod(0o755)  # the sandbox's own uid must reach its root (as tests/editors/conftest.py)
    try:
        repo = work / "calc_py"
        shutil.copytree(FIXTURES / "repos" / "calc_py", repo)
        out = record_run(repo, work, sandboxes, Path(args.png).resolve(), scale=args.scale)
    except (RuntimeError, AssertionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(sandboxes, ignore_errors=True)
    print(f"wrote {out['png']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
