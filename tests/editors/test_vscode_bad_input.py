"""Bad input to the VS Code extension, in real VS Code (code-server + headless Chromium, the
installed .vsix; see code_server.py), one workbench for every case to keep it short:

- the server setting names a path that is not there: one notification naming the path and the
  setting it came from, saying how to fix it; the editor (the command palette) still works;
- trust: the opened folder's own .vscode/settings.json points selfcoder.serverPath and
  selfcoder.pythonPath at a script of the repository (as a cloned repository could). Only the
  user's settings choose the server: the message names the user's path, and the script never runs;
- "Run on This File" on a file outside every workspace folder: a message saying so and what to do.
"""

from __future__ import annotations

import shutil

import pytest

from code_server import code_server
from editor_support import ARTIFACTS


@pytest.mark.timeout(600)
def test_missing_server_untrusted_server_setting_and_file_outside_the_folder(tmp_path, repo):
    missing = tmp_path / "no-such-venv" / "bin" / "selfcoder"
    ran = tmp_path / "the-workspace-server-ran"
    evil = repo / "tools" / "server.sh"  # in the repository: what a cloned repository could ship
    evil.parent.mkdir()
    evil.write_text(f"#!/bin/sh\necho \"$0 $*\" > {ran}\nexec sleep 30\n")
    evil.chmod(0o755)
    (repo / ".vscode").mkdir()
    (repo / ".vscode" / "settings.json").write_text(
        f'{{"selfcoder.serverPath": "{evil}", "selfcoder.pythonPath": "{evil}"}}')
    outside = tmp_path / "loose" / "notes.py"
    outside.parent.mkdir()
    outside.write_text("x = 1\n")
    (tmp_path / "home").mkdir()
    shots = {"shot": tmp_path / "vscode-bad-input.png", "fail": tmp_path / "vscode-bad-input-failure.png"}

    with code_server(tmp_path, repo, machine={"selfcoder.serverPath": str(missing)}, user={},
                     env={"SELFCODER_CONFIG": str(tmp_path / "none.toml"), "HOME": str(tmp_path / "home")}) as vscode:
        out = vscode.drive("vscode_bad_input.cjs", timeout=300, OUTSIDE=str(outside), SHOT=str(shots["shot"]),
                           SHOT_FAIL=str(shots["fail"]))
        log = vscode.log_tail()
    ARTIFACTS.mkdir(exist_ok=True)
    for shot in shots.values():
        if shot.is_file():
            shutil.copy(shot, ARTIFACTS / shot.name)
    assert not ran.exists(), f"the workspace's server setting ran {evil}: {ran.read_text()}"
    assert "error" not in out, f"{out}\n--- code-server log:\n{log}"

    # one notification: the path tried, the setting it came from, how to fix it
    ours = [n for n in out["startNotifications"] if "selfcoder" in n]
    assert len(ours) == 1, out["startNotifications"]
    assert "language server not found" in ours[0] and f"{missing}" in ours[0], ours
    assert "from selfcoder.serverPath" in ours[0] and "pip install selfcoder" in ours[0], ours
    assert str(evil) not in ours[0], ours  # the workspace's server setting was not used
    # still usable: the palette ran a selfcoder command, whose output holds the same message
    transcript = out["transcript"].replace("\xa0", " ").replace("\n", "")  # as the editor draws it, wrapped
    assert "language server not found" in transcript and f"tried `{missing}`" in transcript, transcript

    outside_messages = [n for n in out["outsideNotifications"] if "outside every workspace folder" in n]
    assert len(outside_messages) == 1, out["outsideNotifications"]
    assert f"{outside} is outside every workspace folder" in outside_messages[0]
    assert "Open Folder" in outside_messages[0], outside_messages
    assert not out["quickInputOpen"]  # it did not go on to ask for the problem
