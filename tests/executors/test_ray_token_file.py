"""The token of the local Ray cluster is the key to running code in it: its file must be readable
by its owner only (Ray itself writes it with the umask, 0644)."""

from __future__ import annotations

import stat

import ray

from selfcoder.executors import make_executor
from selfcoder.executors.ray_pool import _private_token


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_local_clusters_token_file_is_0600(tmp_path, monkeypatch):
    for name in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    executor = make_executor("ray", 1)
    try:
        assert ray.get(ray.remote(lambda: 42).remote(), timeout=60) == 42  # the cluster works with it
        token = tmp_path / ".ray" / "auth_token"
        assert mode(token) == 0o600, oct(mode(token))
        assert len(token.read_text().strip()) == 64
    finally:
        executor.shutdown(cancel_futures=True)
        ray.shutdown()


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
