"""The VS Code extension (editors/vscode) end to end in real VS Code: code-server serves the
workbench, headless Chromium (playwright-core) is the user. The packaged .vsix is installed, the
fixture repository opened, a run started from the command palette with the scripted model; the
test waits for the validated result's diff view (saved as a screenshot artifact), applies from
the palette and checks the file on disk.

scripts/ensure-editors.sh (run by scripts/test, and again here: it is idempotent, seconds when
done) installs code-server, Node 24, chromium and playwright-core and builds the .vsix. Where
those cannot be installed the test is skipped with the script's reason; anything after that is
a failure."""

from __future__ import annotations

import shutil
import sys

import pytest

from code_server import code_server
from editor_support import ARTIFACTS, CALC_PROBLEM, user_settings


@pytest.mark.timeout(900)
def test_vscode_runs_shows_the_diff_and_applies_from_the_palette(tmp_path, repo, sandbox_env):
    (tmp_path / "home").mkdir()
    shots = {"diff": tmp_path / "vscode-diff.png", "done": tmp_path / "vscode-applied.png",
             "fail": tmp_path / "vscode-failure.png"}
    with code_server(tmp_path, repo, machine={"selfcoder.pythonPath": sys.executable},
                     user={"selfcoder.settings": user_settings(tmp_path), "selfcoder.saveOnApply": True},
                     env={"SELFCODER_CONFIG": str(tmp_path / "none.toml"), "SELFCODER_SANDBOX_ROOT": str(sandbox_env),
                          "HOME": str(tmp_path / "home")}) as vscode:
        out = vscode.drive("vscode_e2e.cjs", PROBLEM=CALC_PROBLEM, TARGET=str(repo / "calc" / "ops.py"),
                           SHOT_DIFF=str(shots["diff"]), SHOT_DONE=str(shots["done"]), SHOT_FAIL=str(shots["fail"]))
        log = vscode.log_tail()
    ARTIFACTS.mkdir(exist_ok=True)
    for shot in shots.values():
        if shot.is_file():
            shutil.copy(shot, ARTIFACTS / shot.name)
    assert "error" not in out, f"{out}\n--- code-server log:\n{log}"
    assert out["diffTab"].startswith("calc/ops.py ↔ selfcoder run"), out
    assert "resolved" in out["diffTab"] and out["diffEditors"] >= 1 and out["inserted"] >= 1, out
    assert shots["diff"].stat().st_size > 10_000  # a real picture of the diff view
    text = (repo / "calc" / "ops.py").read_text()
    assert "    count = len(values)\n" in text and "len(values) - 1" not in text
