"""A terminal screen (the ANSI text `tmux capture-pane -e -p` prints) as a PNG: rich turns the
escape sequences into HTML with the same colours, headless Chromium draws that page at a size
computed from the terminal's columns and rows. Why this route: no terminal emulator or X server
is needed, only what the editor tests already install (rich is a dependency, Chromium comes from
scripts/ensure-editors.sh), and the picture is exactly the cells Neovim drew."""

from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

from rich.console import Console
from rich.terminal_theme import TerminalTheme
from rich.text import Text

# Neovim 0.10+'s default dark colour scheme: cells it leaves at the terminal's default colours
# (and the page around the grid) get its Normal background and foreground.
NVIM_DARK = TerminalTheme(
    (0x14, 0x16, 0x1B), (0xE0, 0xE2, 0xEA),
    [(0x07, 0x08, 0x0D), (0xFF, 0xC0, 0xB9), (0xB3, 0xF6, 0xC0), (0xFC, 0xE0, 0x94),
     (0xA6, 0xDB, 0xFF), (0xFF, 0xCA, 0xFF), (0x8C, 0xF8, 0xF7), (0xEE, 0xF1, 0xF8)],
    [(0x4F, 0x52, 0x58), (0xFF, 0xC0, 0xB9), (0xB3, 0xF6, 0xC0), (0xFC, 0xE0, 0x94),
     (0xA6, 0xDB, 0xFF), (0xFF, 0xCA, 0xFF), (0x8C, 0xF8, 0xF7), (0xEE, 0xF1, 0xF8)],
)

FONT_PX = 15
LINE_PX = 19  # a whole number of pixels per row: box-drawing separators join without gaps
CHAR_EM = 0.602  # DejaVu Sans Mono's advance width (1233/2048 em)
PAD_PX = 12

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><style>
html, body {{ margin: 0; background: {background}; overflow: hidden; }}
pre {{ margin: 0; padding: %(pad)dpx; color: {foreground}; background: {background};
  font-family: 'DejaVu Sans Mono', monospace; font-size: %(font)dpx; line-height: %(line)dpx;
  font-variant-ligatures: none; }}
</style></head>
<body><pre><code>{code}</code></pre></body></html>
""" % {"pad": PAD_PX, "font": FONT_PX, "line": LINE_PX}


def ansi_to_html(ansi: str, columns: int) -> str:
    """The page showing `ansi` (SGR colours, bold, reverse...) in Neovim's dark theme."""
    console = Console(record=True, width=columns, force_terminal=True, color_system="truecolor",
                      file=open("/dev/null", "w"), legacy_windows=False)
    for line in ansi.rstrip("\n").split("\n"):
        console.print(Text.from_ansi(line, no_wrap=True, end=""), overflow="crop", no_wrap=True, crop=True)
    console.file.close()
    return console.export_html(theme=NVIM_DARK, code_format=PAGE, inline_styles=True)


def window_size(columns: int, rows: int) -> tuple[int, int]:
    return (round(columns * FONT_PX * CHAR_EM) + 2 * PAD_PX + 2, rows * LINE_PX + 2 * PAD_PX)


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the PNG's IHDR chunk."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def html_to_png(html: Path, png: Path, size: tuple[int, int], chromium: str = "/usr/bin/chromium",
                scale: int = 1) -> None:
    """Headless Chromium's screenshot of `html` at `size` CSS pixels (times `scale`)."""
    profile = Path(tempfile.mkdtemp(prefix="selfcoder-chromium-"))
    try:
        done = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", f"--force-device-scale-factor={scale}",
             f"--window-size={size[0]},{size[1]}", f"--screenshot={png}", html.as_uri()],
            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    if not png.is_file():
        raise RuntimeError(f"chromium wrote no screenshot (exit {done.returncode}): {done.stderr[-1500:]}")


def ansi_to_png(ansi: str, columns: int, rows: int, png: Path, *, html: Path | None = None,
                chromium: str = "/usr/bin/chromium", scale: int = 1) -> Path:
    """Render `ansi` (columns x rows cells) to `png` through the page `html` (default: beside it)."""
    html = html or png.with_suffix(".html")
    html.write_text(ansi_to_html(ansi, columns), encoding="utf-8")
    html_to_png(html, png, window_size(columns, rows), chromium, scale)
    return html
