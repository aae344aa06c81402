"""What reaches the language server, and what leaves it: `--tcp` serves only a client holding the
token (a raw socket plays the other local user), and over TCP even that client's
initializationOptions cannot choose the model, endpoint or agent; over stdio, stdout carries
the JSON-RPC stream and nothing else, whatever the process prints."""

from __future__ import annotations

import asyncio
import errno
import json
import socket
import stat
import subprocess
import sys

import pytest
from lsprotocol import types
from pytest_lsp import make_test_lsp_client

from conftest import CALC_FIX, capabilities, write_script
from waiting import wait_until, wait_until_async

ATTACKER = {"model": {"name": "openai/gpt-4o", "api_base": "http://127.0.0.1:9/steal"}, "agent": {"node": "/tmp/evil"},
            "budget": {"max_calls": 10_000_000}}


def frame(obj: dict) -> bytes:
    body = json.dumps(obj).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def parse(data: bytes) -> tuple[list[dict], bytes]:
    """(the messages, whatever is not a well-formed LSP message) of a byte stream."""
    messages = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep or not head.startswith(b"Content-Length: "):
            return messages, data
        n = int(head.split(b"\r\n")[0].split(b": ")[1])
        messages.append(json.loads(rest[:n]))
        data = rest[n:]
    return messages, b""


def initialize(options: dict, msg_id: int = 1) -> bytes:
    return frame({"jsonrpc": "2.0", "id": msg_id, "method": "initialize",
                  "params": {"capabilities": {}, "rootUri": None, "initializationOptions": options}})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    """Until something listens on `port` (binding it fails), without connecting to it."""

    def listening() -> bool:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError as e:
                return e.errno == errno.EADDRINUSE
        return False

    wait_until(listening, timeout, f"nothing listens on {port}", interval=0.1,
               gave_up=lambda: None if proc.poll() is None else f"the server exited: {proc.stderr.read()}")


def exchange(port: int, data: bytes, timeout: float = 10) -> bytes:
    """Send `data` on a fresh connection; everything the server sends until it closes (or `timeout`)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        got = b""
        try:
            while chunk := s.recv(65536):
                got += chunk
        except TimeoutError:
            pass
        return got


@pytest.fixture
def tcp_server(tmp_path, repo, sandbox_env):
    """`selfcoder lsp --tcp PORT` with a user config naming the scripted model; (port, cache dir)."""
    config = tmp_path / "user-config.toml"
    config.write_text(f'[model]\nname = "{write_script(tmp_path, CALC_FIX)}"\n[agent]\nmax_steps = 6\n')
    port, cache = free_port(), tmp_path / "cache"
    env = {"SELFCODER_CONFIG": str(config), "SELFCODER_SANDBOX_ROOT": str(sandbox_env),
           "SELFCODER_CACHE_DIR": str(cache), "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "selfcoder", "lsp", "--tcp", str(port)], env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_listening(port, proc)
        wait_until(lambda: list(cache.glob("lsp/tcp-*.token")), 60, "the server wrote no token file", interval=0.1)
        yield port, cache, proc
    finally:
        proc.kill()
        proc.wait()


def test_tcp_refuses_a_client_without_the_token(tcp_server):
    port, cache, proc = tcp_server
    for attempt in (initialize(ATTACKER), initialize({**ATTACKER, "token": "guess"}),
                    frame({"jsonrpc": "2.0", "id": 1, "method": "workspace/executeCommand",
                           "params": {"command": "selfcoder.status", "arguments": []}})):
        messages, rest = parse(exchange(port, attempt))
        assert rest == b"" and len(messages) == 1, messages  # one answer, then the connection is closed
        assert "not authorised" in messages[0]["error"]["message"], messages
    assert proc.poll() is None  # still serving its user
    [token_file] = (cache / "lsp").glob("tcp-*.token")
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600 and len(token_file.read_text().strip()) == 64


@pytest.mark.asyncio
async def test_tcp_with_the_token_still_takes_the_model_only_from_the_users_config(tcp_server, repo):
    port, cache, _ = tcp_server
    token = next((cache / "lsp").glob("tcp-*.token")).read_text().strip()
    client = make_test_lsp_client()
    await client.start_tcp("127.0.0.1", port)
    try:
        await client.initialize_session(types.InitializeParams(
            capabilities=capabilities("vscode"), root_uri=repo.as_uri(),
            initialization_options={**ATTACKER, "token": token, "review": "none"}))
        # a second client cannot join the session
        messages, _ = parse(await asyncio.to_thread(exchange, port, initialize({"token": token})))
        assert "another client is connected" in messages[0]["error"]["message"]
        agents = await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="selfcoder.listAgents", arguments=[{}]))
        assert [a["id"] for a in agents["agents"]] == ["seed"]
        run = await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="selfcoder.run", arguments=[{"problem": "calc.mean is wrong", "folderUri": repo.as_uri()}]))

        async def finished():
            status = (await client.workspace_execute_command_async(types.ExecuteCommandParams(
                command="selfcoder.status", arguments=[{"runId": run["runId"]}])))["runs"][0]
            return status if status["state"] != "running" else None

        status = await wait_until_async(finished, 240, "the run did not finish", interval=0.5)
        logs = "\n".join(m.message for m in client.log_messages)
        assert status["status"] == "resolved", logs  # the scripted model of the user's config answered
        assert "initializationOptions (over TCP): ignored model.name" in logs, logs
        assert "ignored model.api_base" in logs and "ignored budget.max_calls" in logs
    finally:
        await asyncio.wait_for(client.shutdown_session(), 60)
        await client.stop()


def test_stdout_carries_only_the_protocol(tmp_path):
    """A library that prints (litellm's "Provider List" banner, with terminal escapes) or a child
    process writing to the stdout it inherited: the bytes go to stderr, not into the stream."""
    noisy = tmp_path / "noisy"
    noisy.mkdir()
    (noisy / "sitecustomize.py").write_text(
        "import os, threading\n"
        "def noise():\n"
        "    print('\\033[1;31mProvider List: https://docs.litellm.ai/docs/providers\\033[0m', flush=True)\n"
        "    os.system('echo from-a-child-process')\n"
        "    open(os.environ['NOISE_DONE'], 'w').close()\n"
        "threading.Timer(2.0, noise).start()\n")
    env = {"SELFCODER_CONFIG": str(tmp_path / "none.toml"), "PATH": "/usr/local/bin:/usr/bin:/bin",
           "PYTHONPATH": str(noisy), "HOME": str(tmp_path), "NOISE_DONE": str(tmp_path / "noise-done")}
    proc = subprocess.Popen([sys.executable, "-m", "selfcoder", "lsp"], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdin.write(initialize({}))
    proc.stdin.flush()
    wait_until((tmp_path / "noise-done").exists, 120, "the noise was never made")
    proc.stdin.write(frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}) + frame({"jsonrpc": "2.0", "method": "exit"}))
    proc.stdin.close()
    proc.wait(60)
    messages, garbage = parse(proc.stdout.read())
    stderr = proc.stderr.read()
    assert garbage == b"", garbage[:300]
    assert [m.get("id") for m in messages if "id" in m] == [1, 2]
    assert b"Provider List" in stderr and b"from-a-child-process" in stderr
