"""The token of the local Ray cluster is the key to running code in it: its file must be readable
by its owner only (Ray itself writes it with the umask, 0644)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

from selfcoder.pools.ray_pool import _private_token


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_local_clusters_token_file_is_0600(tmp_path):
    """In a process of its own: Ray keeps the first cluster's token for the life of a process, so
    a second cluster with another HOME in this test process could not be reached."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env["HOME"] = str(tmp_path)
    script = ("import ray\nfrom selfcoder.pools import make_executor\n"
              "executor = make_executor('ray', 1)\n"
              "try:\n    print('ANSWER', ray.get(ray.remote(lambda: 42).remote(), timeout=60))\n"
              "finally:\n    executor.shutdown(cancel_futures=True)\n    ray.shutdown()\n")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert "ANSWER 42" in done.stdout, done.stderr[-3000:]  # the cluster works with it
    token = tmp_path / ".ray" / "auth_token"
    assert mode(token) == 0o600, oct(mode(token))
    assert len(token.read_text().strip()) == 64


def test_an_existing_readable_token_is_made_private(tmp_path, monkeypatch):
    for name in ("RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    token = tmp_path / ".ray" / "auth_token"
    token.parent.mkdir()
    token.write_text("a" * 64)
    token.chmod(0o644)
    _private_token()
    assert mode(token) == 0o600 and token.read_text() == "a" * 64
