"""Real VS Code for the tests: code-server serves the workbench, a Node script drives headless
Chromium through playwright-core. What the VS Code tests share: the tools from
scripts/ensure-editors.sh (a skip naming the reason where they cannot be installed), a private
profile with the packaged .vsix installed, and one code-server in its own process group, stopped
with every helper it started (extension host, language server) — they outlive a browser otherwise.

code-server is "remote" VS Code: machine-scoped settings (selfcoder.serverPath / pythonPath) live in
<profile>/Machine/settings.json, the user's other settings in <profile>/User/settings.json."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from editor_support import REPO_ROOT
from waiting import wait_until

HERE = Path(__file__).resolve().parent
TOOLS = Path(os.environ.get("SELFCODER_EDITORS_HOME", Path.home() / ".cache" / "selfcoder-editors"))
# a quiet, trusted workbench: no welcome page, tips, telemetry, update checks or AI panels
QUIET = {"security.workspace.trust.enabled": False, "workbench.startupEditor": "none",
         "workbench.tips.enabled": False, "telemetry.telemetryLevel": "off", "extensions.autoUpdate": False,
         "chat.disableAIFeatures": True, "window.restoreWindows": "none"}


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


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    def healthy() -> bool:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=5):
                return True
        except OSError:
            return False

    wait_until(healthy, timeout, f"code-server did not answer {url}/healthz",
               gave_up=lambda: None if process.poll() is None else f"code-server exited with {process.returncode}")


@dataclass
class CodeServer:
    url: str  # the workbench with the folder open
    env: dict  # code-server's environment (PATH with Node 24 first)
    tools: dict
    log: Path

    def drive(self, script: str, timeout: float = 600, **params: str) -> dict:
        """Run tests/editors/<script> (Node, playwright-core) against this workbench; its JSON result.
        The script gets URL, CHROMIUM, RESULT and `params` in its environment."""
        result = self.log.parent / f"{Path(script).stem}-result.json"
        done = subprocess.run([self.tools["node"], str(HERE / script)], capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL,
                              env={**self.env, "NODE_PATH": self.tools["node_path"], "URL": self.url,
                                   "CHROMIUM": self.tools["chromium"], "RESULT": str(result), **params})
        assert result.is_file(), f"{script} wrote no result: {done.stdout[-2000:]} {done.stderr[-2000:]}"
        return json.loads(result.read_text())

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@contextmanager
def code_server(tmp_path: Path, folder: Path, *, user: dict, machine: dict, env: dict) -> Iterator[CodeServer]:
    """code-server on a free port with `folder` open, a fresh profile under tmp_path holding the
    installed .vsix, `user` (over QUIET) and `machine` settings; `env` is added to its environment."""
    tools = ensure_tools()
    data, extensions = tmp_path / "vscode-data", tmp_path / "vscode-extensions"
    (data / "User").mkdir(parents=True)
    (data / "Machine").mkdir()
    (data / "Machine" / "settings.json").write_text(json.dumps(machine))
    (data / "User" / "settings.json").write_text(json.dumps({**QUIET, **user}))
    env = {**os.environ, "PATH": f"{Path(tools['node']).parent}:{os.environ['PATH']}", **env}
    base = [tools["code_server"], "--user-data-dir", str(data), "--extensions-dir", str(extensions)]
    subprocess.run(base + ["--install-extension", tools["vsix"]], env=env, check=True, capture_output=True, timeout=120)
    assert any(p.name.startswith("selfcoder.selfcoder-") for p in extensions.iterdir()), "the .vsix did not install"

    port = free_port()
    log_path = tmp_path / "code-server.log"
    log = log_path.open("w")
    server = subprocess.Popen(base + ["--bind-addr", f"127.0.0.1:{port}", "--auth", "none", "--disable-telemetry",
                                      "--disable-update-check", "--disable-workspace-trust",
                                      "--config", str(tmp_path / "cs-config.yaml"), str(folder)],
                              env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              start_new_session=True)  # its own process group: extension host + language server
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, server)
        yield CodeServer(url=f"{url}/?folder={folder}", env=env, tools=tools, log=log_path)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
