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

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from editor_support import ARTIFACTS, CALC_PROBLEM, REPO_ROOT, user_settings

HERE = Path(__file__).resolve().parent
TOOLS = Path(os.environ.get("SELFCODER_EDITORS_HOME", Path.home() / ".cache" / "selfcoder-editors"))


def ensure_tools() -> dict:
    """The tool paths from scripts/ensure-editors.sh; a skip naming the reason when it fails."""
    done = subprocess.run([str(REPO_ROOT / "scripts" / "ensure-editors.sh")], capture_output=True, text=True,
                          timeout=900, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        failed = TOOLS / "FAILED"
        reason = failed.read_text().strip() if failed.is_file() else done.stderr.strip()[-500:]
        print(done.stderr[-3000:], file=sys.stderr)
        pytest.skip(f"VS Code end-to-end: code-server/chromium could not be installed: {reason}")
    return json.loads((TOOLS / "env.json").read_text())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"code-server exited with {process.returncode}"
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"code-server did not answer {url}/healthz within {timeout} s")


@pytest.mark.timeout(900)
def test_vscode_runs_shows_the_diff_and_applies_from_the_palette(tmp_path, repo, sandbox_env):
    tools = ensure_tools()
    node_bin = str(Path(tools["node"]).parent)
    data, extensions = tmp_path / "vscode-data", tmp_path / "vscode-extensions"
    (data / "User").mkdir(parents=True)
    (data / "Machine").mkdir()  # code-server is "remote": machine-scoped settings (the server path) live here
    (data / "Machine" / "settings.json").write_text(json.dumps({"selfcoder.pythonPath": sys.executable}))
    (data / "User" / "settings.json").write_text(json.dumps({
        "security.workspace.trust.enabled": False, "workbench.startupEditor": "none",
        "workbench.tips.enabled": False, "telemetry.telemetryLevel": "off", "extensions.autoUpdate": False,
        "chat.disableAIFeatures": True, "window.restoreWindows": "none",
        "selfcoder.settings": user_settings(tmp_path),
        "selfcoder.saveOnApply": True,
    }))
    env = {**os.environ, "PATH": f"{node_bin}:{os.environ['PATH']}", "SELFCODER_CONFIG": str(tmp_path / "none.toml"),
           "SELFCODER_SANDBOX_ROOT": str(sandbox_env), "HOME": str(tmp_path / "home")}
    (tmp_path / "home").mkdir()
    base = [tools["code_server"], "--user-data-dir", str(data), "--extensions-dir", str(extensions)]
    subprocess.run(base + ["--install-extension", tools["vsix"]], env=env, check=True, capture_output=True, timeout=120)
    assert any(p.name.startswith("selfcoder.selfcoder-") for p in extensions.iterdir()), "the .vsix did not install"

    port = free_port()
    log = (tmp_path / "code-server.log").open("w")
    server = subprocess.Popen(base + ["--bind-addr", f"127.0.0.1:{port}", "--auth", "none", "--disable-telemetry",
                                      "--disable-update-check", "--disable-workspace-trust",
                                      "--config", str(tmp_path / "cs-config.yaml"), str(repo)],
                              env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              start_new_session=True)  # its own process group: extension host + language server
    shots = {"diff": tmp_path / "vscode-diff.png", "done": tmp_path / "vscode-applied.png",
             "fail": tmp_path / "vscode-failure.png"}
    result = tmp_path / "e2e.json"
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, server)
        driver = subprocess.run(
            [tools["node"], str(HERE / "vscode_e2e.cjs")], capture_output=True, text=True, timeout=600,
            env={**env, "NODE_PATH": tools["node_path"], "URL": f"{url}/?folder={repo}", "CHROMIUM": tools["chromium"],
                 "PROBLEM": CALC_PROBLEM, "TARGET": str(repo / "calc" / "ops.py"),
                 "SHOT_DIFF": str(shots["diff"]), "SHOT_DONE": str(shots["done"]),
                 "SHOT_FAIL": str(shots["fail"]), "RESULT": str(result)})
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
    ARTIFACTS.mkdir(exist_ok=True)
    for shot in shots.values():
        if shot.is_file():
            shutil.copy(shot, ARTIFACTS / shot.name)
    assert result.is_file(), f"the driver wrote no result: {driver.stdout[-2000:]} {driver.stderr[-2000:]}"
    out = json.loads(result.read_text())
    assert "error" not in out, f"{out}\n--- code-server log:\n{(tmp_path / 'code-server.log').read_text()[-3000:]}"
    assert out["diffTab"].startswith("calc/ops.py ↔ selfcoder run"), out
    assert "resolved" in out["diffTab"] and out["diffEditors"] >= 1 and out["inserted"] >= 1, out
    assert shots["diff"].stat().st_size > 10_000  # a real picture of the diff view
    text = (repo / "calc" / "ops.py").read_text()
    assert "    count = len(values)\n" in text and "len(values) - 1" not in text
