"""Hostile code in the sandbox (run once per backend): no network (host loopback included),
no writes outside the workspace and /tmp, no host files through the diff or read_file,
fork bombs, memory hogs, floods of output and SIGTERM-immune processes are contained, and
the host stays responsive."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest

from selfcoder.sandbox import Limits

from .conftest import SMALL

CONNECT = """
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
try:
    socket.create_connection((host, port), timeout=3).close()
    print("CONNECTED")
except OSError as e:
    print("refused:", e)
"""


def _host_ip() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))  # no packet is sent; picks the outgoing interface
            ip = s.getsockname()[0]
        except OSError:
            return None
    return None if ip.startswith("127.") else ip


def test_no_network_not_even_host_loopback(open_sb, tmp_path):
    listener = socket.socket()
    listener.bind(("0.0.0.0", 0))
    listener.listen(5)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    sb = open_sb(tmp_path)
    sb.write_file("/tmp/connect.py", CONNECT)
    targets = ["127.0.0.1", "1.1.1.1", "8.8.8.8"] + ([_host_ip()] if _host_ip() else [])
    for host in targets:
        res = sb.run(f"python3 /tmp/connect.py {host} {port if host != '8.8.8.8' else 53}", timeout=20)
        assert "CONNECTED" not in res.output and "refused:" in res.output, (host, res.output)
    with pytest.raises(socket.timeout):
        listener.accept()
    listener.close()
    res = sb.run("python3 -c \"import socket; print(socket.getaddrinfo('example.com', 80))\"", timeout=20)
    assert res.exit_code != 0


def test_no_writes_outside_workspace_and_tmp(open_sb, tmp_path):
    sb = open_sb(tmp_path)
    for target in ["/usr/evil", "/etc/evil", "/root/evil", "/evil", "/bin/evil", "/usr/lib/evil"]:
        res = sb.run(f"echo x > {target}")
        assert res.exit_code != 0, target
        assert not Path(target).exists(), f"{target} appeared on the host"
    assert sb.run("echo ok > /workspace/fine && echo ok > /tmp/fine").ok


def test_planted_symlinks_do_not_expose_host_files(open_sb, tmp_path):
    host_secret = tmp_path / "host-secret.txt"
    host_secret.write_text("HOSTSECRET-7\n")
    src = tmp_path / "src"
    src.mkdir()
    sb = open_sb(src)
    sb.run(f"ln -s {host_secret} leak && ln -s /etc/shadow shadow && ln -s /proc/1/environ env")
    patch = sb.diff()
    assert "HOSTSECRET" not in patch and "root:" not in patch
    assert f"+{host_secret}" in patch  # the link itself, as a link
    try:
        data = sb.read_file("leak")
    except OSError:
        data = b""
    assert b"HOSTSECRET" not in data
    try:
        shadow = sb.read_file("shadow")
    except OSError:
        shadow = b""
    assert shadow != Path("/etc/shadow").read_bytes()


def test_fork_bomb_is_contained(open_sb, tmp_path):
    sb = open_sb(tmp_path, limits=Limits(**{**SMALL.__dict__, "pids": 64}))
    start = time.monotonic()
    res = sb.run("bomb() { bomb | bomb & }; bomb; sleep 1; echo done", timeout=4)
    assert time.monotonic() - start < 30
    host = subprocess.run(["true"], timeout=10)
    assert host.returncode == 0
    after = sb.run("echo alive", timeout=20)  # leftovers of the bomb may have to be cleared first
    assert after.ok and after.output.endswith("alive\n"), after.output
    assert sb.run("echo again").output == "again\n"
    assert res.exit_code in (0, 137) or res.timed_out


def test_process_limit_applies(open_sb, tmp_path):
    sb = open_sb(tmp_path, limits=Limits(**{**SMALL.__dict__, "pids": 40}))
    script = ("import os, time\nn = 0\ntry:\n    while n < 200:\n        if os.fork() == 0:\n"
              "            time.sleep(2); os._exit(0)\n        n += 1\nexcept OSError as e:\n    print('limited', n)\n")
    sb.write_file("/tmp/forks.py", script)
    res = sb.run("python3 /tmp/forks.py", timeout=20)
    assert "limited" in res.output, res.output
    assert int(res.output.split()[1]) < 45


def test_memory_hog_is_stopped(open_sb, tmp_path):
    sb = open_sb(tmp_path, limits=Limits(**{**SMALL.__dict__, "memory_mb": 512}))
    res = sb.run("python3 -c 'a = bytearray(8 * 1024**3); print(\"allocated\")'", timeout=30)
    assert res.exit_code != 0 and "allocated" not in res.output
    res = sb.run("python3 -c 'a = []\nwhile True: a.append(bytearray(64 << 20))'", timeout=30)
    assert res.exit_code != 0
    assert subprocess.run(["true"], timeout=10).returncode == 0
    assert sb.run("echo alive").ok


def test_huge_output_is_capped(open_sb, tmp_path):
    sb = open_sb(tmp_path)
    res = sb.run("head -c 100000000 /dev/zero | tr '\\0' y; echo; echo LAST", timeout=60)
    assert res.ok and not res.timed_out
    assert res.output.endswith("LAST\n") and res.output.startswith("yyy")
    assert res.truncated_bytes > 99_000_000
    assert len(res.output) <= SMALL.output_bytes + 100


def test_sigterm_immune_process_dies_at_timeout(open_sb, tmp_path):
    sb = open_sb(tmp_path)
    script = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('armed', flush=True)\ntime.sleep(300)\n"
    sb.write_file("/tmp/stubborn.py", script)
    start = time.monotonic()
    res = sb.run("python3 /tmp/stubborn.py", timeout=1)
    assert res.timed_out and res.output == "armed\n"
    assert time.monotonic() - start < 120  # killed at the timeout, long before its 300 s
    assert "stubborn" not in sb.run("ps -eo args").output


def test_killing_every_process_leaves_a_usable_sandbox(open_sb, tmp_path):
    sb = open_sb(tmp_path)
    sb.run("echo keep > kept.txt")
    res = sb.run("kill -9 -1")
    assert res.exit_code != 0
    assert sb.run("cat kept.txt").output == "keep\n"
