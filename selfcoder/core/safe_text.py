"""Untrusted text made safe to print: what the user sees is what happened.

Agent events, model replies, patches, test names, file names and repository config values are
written by code we do not trust. Printed raw, an ANSI sequence can erase a diff line
(`\\x1b[2K\\x1b[1A` hides `curl … | sh`) or recolour the verdict, and Rich markup in the text
(`[/]`, `[bold red]`) either crashes Rich's printer or is silently swallowed.

- `visible(text)`: every control character except newline and tab — C0, DEL, C1 (ESC included,
  so no escape sequence survives) and the Unicode bidirectional controls that reorder what is
  shown ("Trojan Source") — becomes a visible escape such as `\\x1b` or `\\u202e`.
- `markup(text)`: `visible` plus Rich markup escaped: for interpolating into a markup string.
- `text(text, style)`: a `rich.text.Text` (never parsed as markup), for tables and styled output.
- `one_line(text, limit)`: for a progress line: newlines and tabs become spaces, then cut.
"""

from __future__ import annotations

import re
from typing import Any

from rich.markup import escape
from rich.text import Text

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")


def _show(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(value: Any) -> str:
    """`str(value)` with every control character except newline and tab shown as an escape."""
    return _CONTROL.sub(_show, str(value))


def markup(value: Any) -> str:
    """`visible(value)` with Rich markup escaped, to put inside a markup string."""
    return escape(visible(value))


def text(value: Any, style: str = "") -> Text:
    """A Rich `Text` of `visible(value)`: styled, never parsed as markup."""
    return Text(visible(value), style=style)


def one_line(value: Any, limit: int | None = None) -> str:
    """`visible(value)` on one line (newlines and tabs become spaces), cut to `limit` characters,
    markup escaped."""
    shown = visible(str(value).replace("\n", " ").replace("\t", " "))
    if limit is not None and len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    return escape(shown)
