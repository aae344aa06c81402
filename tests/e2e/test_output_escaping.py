"""`selfcoder solve` shows what happened (issue 8, finding 10): an agent whose command carries
Rich markup, and whose patch carries an ANSI sequence that erases the line above it, is shown
literally — the run does not crash, and the escape is visible in the diff instead of acting."""

from __future__ import annotations

import os
import subprocess
import sys

from e2e_replies import CALC_PROBLEM, search_replace

HIDE_LINE = "\x1b[2K\x1b[1A"


def test_solve_output_shows_markup_and_escapes_literally(repo_copy, script, sandbox_root, tmp_path):
    repo = repo_copy("calc_py")
    echo = "```bash\necho '[/] [bold red]boom'\n```\n"
    fix = search_replace("calc/ops.py", "    count = len(values) - 1", f"    count = len(values)  # {HIDE_LINE}[/] [bold red]x")
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR")}
    env.update(SELFCODER_CONFIG=str(tmp_path / "none.toml"), SELFCODER_SANDBOX_ROOT=str(sandbox_root), COLUMNS="200")
    proc = subprocess.run([sys.executable, "-m", "selfcoder.cli", "solve", str(repo), "-p", CALC_PROBLEM,
                           "--model", script(echo, fix)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "bash: echo '[/] [bold red]boom'" in proc.stdout, "the agent's step was lost or mangled"
    assert "\x1b" not in proc.stdout, "an escape sequence reached the terminal"
    assert "+    count = len(values)  # \\x1b[2K\\x1b[1A[/] [bold red]x" in proc.stdout
    assert "resolved" in proc.stdout
