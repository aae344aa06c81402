"""What one agent can do to the host through the model socket (issue 8, findings 7 and 8): bodies
over the cap, too many connections and requests on a spent budget are refused before their body
is read; the socket is 0600 and belongs to the sandbox uid only. All through the real socket."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading

import pytest
from llm_helpers import UNIX_CLIENT, make_settings, scripted, user

from selfcoder.llm import Gateway
from selfcoder.llm.socket_server import MAX_BODY, MAX_CONNECTIONS
from waiting import wait_until


def raw_request(sock_path, head: str, body: bytes = b"", timeout: float = 30.0) -> tuple[int, dict]:
    """Send `head` (and `body`) on a fresh connection; return (status, JSON body). A server that
    waits for a body that never comes makes this time out: the old behaviour."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(str(sock_path))
    try:
        try:
            s.sendall(head.encode())
            if body:
                s.sendall(body)  # the caller's bytes, not a copy: only the server's memory is measured
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered and closed before we finished: read the answer
        data = b""
        while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < _length(data):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    head_part, _, rest = data.partition(b"\r\n\r\n")
    return int(head_part.split()[1]), json.loads(rest or b"null")


def _length(data: bytes) -> int:
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


def post_head(length: int) -> str:
    return f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"


@pytest.fixture
def served(script, tmp_path):
    def start(replies=("ok",), **sections):
        gw = Gateway(make_settings(scripted(script(list(replies))), **sections), "limits", retry_base_delay_s=0.001)
        return gw, tmp_path / "llm.sock"

    return start


def test_a_body_over_the_cap_is_refused_without_reading_it(served):
    gw, sock = served()
    with gw, gw.serve(sock):
        status, body = raw_request(sock, post_head(30 << 20))  # announces 30 MB, sends none of it
    assert status == 413 and body["error"]["type"] == "invalid_request_error"
    assert gw.usage.calls == 0
    with gw.__class__(gw.settings, "again") as gw2, gw2.serve(sock):
        status, _ = raw_request(sock, post_head(MAX_BODY + 1))
        chunked, _ = raw_request(sock, "POST /v1/chat/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert status == 413 and chunked == 411


def test_twelve_30_mb_requests_do_not_grow_host_memory(served):
    psutil = pytest.importorskip("psutil")
    gw, sock = served()
    me = psutil.Process()
    body = b"x" * (30 << 20)
    peak = [me.memory_info().rss]
    done = threading.Event()

    def sample():
        while not done.wait(0.02):
            peak[0] = max(peak[0], me.memory_info().rss)

    statuses = []
    with gw, gw.serve(sock):
        base = me.memory_info().rss
        threading.Thread(target=sample, daemon=True).start()
        def send():
            try:
                statuses.append(raw_request(sock, post_head(len(body)), body)[0])
            except OSError as e:  # refused and closed while we were still sending: never read either
                statuses.append(type(e).__name__)

        senders = [threading.Thread(target=send) for _ in range(12)]
        for t in senders:
            t.start()
        for t in senders:
            t.join(60)
        done.set()
    answered = [s for s in statuses if isinstance(s, int)]
    assert len(statuses) == 12 and set(answered) <= {413, 503} and 413 in answered, statuses
    assert peak[0] - base < 128 << 20, (peak[0] - base) >> 20  # the bodies (360 MB) were never read into memory


def test_connections_over_the_limit_get_503_at_once(served):
    gw, sock = served()
    holders = []
    with gw, gw.serve(sock):
        for _ in range(MAX_CONNECTIONS):  # each holds a slot: half a request line, then nothing
            h = socket.socket(socket.AF_UNIX)
            h.connect(str(sock))
            h.sendall(b"GET /v1/us")
            holders.append(h)
        usage = lambda: raw_request(sock, "GET /v1/usage HTTP/1.1\r\nHost: x\r\n\r\n")  # noqa: E731
        # once the server has accepted them all (a loaded machine may take a while), the next is turned away
        status, body = wait_until(lambda: (r := usage())[0] == 503 and r, 60, "no 503 with every slot held")
        assert body["error"]["type"] == "server_busy"
        for h in holders:
            h.close()
        status, body = wait_until(lambda: (r := usage())[0] == 200 and r, 60, "the slots did not come back")
    assert body["status"] == "ok"


def test_a_spent_budget_is_refused_before_the_body_is_read(served):
    gw, sock = served(["one", "two"], budget={"max_calls": 1})
    with gw, gw.serve(sock):
        ok, _ = raw_request(sock, post_head(len(b := json.dumps({"messages": user("a")}).encode())), b)
        status, body = raw_request(sock, post_head(1000))  # no body follows: answered anyway
    assert ok == 200 and status == 429 and body["error"]["type"] == "budget_exceeded"
    assert "1 of 1 calls" in body["error"]["message"] and gw.status == "budget_exceeded"


def test_socket_is_0600_and_owned_by_the_sandbox_uid(served):
    if os.geteuid() != 0:
        pytest.skip("giving the socket to another uid needs root (the local sandbox's uids exist only then)")
    owner, stranger = 64011, 64012
    gw, _ = served(["from the owner"])
    io = tempfile.mkdtemp(prefix="sc-sock-", dir="/tmp")  # reachable by the two uids, as the run's I/O dir is
    os.chmod(io, 0o711)
    sock = os.path.join(io, "llm.sock")
    env = {k: v for k, v in os.environ.items() if "API_KEY" not in k}

    python = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable  # one other uids may run

    def as_uid(uid):
        return subprocess.run([python, os.path.join(io, "client.py"), sock, "POST", "/v1/chat/completions",
                               json.dumps({"messages": user("hi")})], user=uid, env=env,
                              capture_output=True, text=True, timeout=60)  # fmt: skip

    try:
        shutil.copy(UNIX_CLIENT, os.path.join(io, "client.py"))
        os.chmod(os.path.join(io, "client.py"), 0o644)
        with gw, gw.serve(sock, owner_uid=owner):
            st = os.stat(sock)
            assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == owner
            refused = as_uid(stranger)
            allowed = as_uid(owner)
    finally:
        shutil.rmtree(io, ignore_errors=True)
    assert refused.returncode != 0 and "Permission denied" in refused.stderr
    assert allowed.returncode == 0, allowed.stderr
    assert json.loads(allowed.stdout)["body"]["choices"][0]["message"]["content"] == "from the owner"
