"""The local Ray cluster that `--executor ray` starts listens on every interface, and Ray runs
whatever its clients send: a process without the cluster's token must not get in."""

from __future__ import annotations

import os
import subprocess
import sys

import ray

from selfcoder.pools import make_executor


def test_a_client_without_the_token_cannot_join_the_local_cluster(tmp_path, monkeypatch):
    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    executor = make_executor("ray", 1)
    try:
        address = ray.get_runtime_context().gcs_address
        assert ray.get(ray.remote(lambda: 42).remote(), timeout=60) == 42  # the cluster works for us
        env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
        env.update(HOME=str(tmp_path), RAY_AUTH_TOKEN="not-the-token")  # no ~/.ray/auth_token there
        attacker = ("import ray, logging; ray.init(address=%r, logging_level=logging.ERROR); "
                    "print('RAN', ray.get(ray.remote(lambda: 1).remote()))" % address)
        res = subprocess.run([sys.executable, "-c", attacker], env=env, capture_output=True, text=True, timeout=120)
        assert res.returncode != 0 and "RAN" not in res.stdout, res.stdout
        assert "auth" in res.stderr.lower() or "token" in res.stderr.lower(), res.stderr[-2000:]
    finally:
        executor.shutdown(cancel_futures=True)
        ray.shutdown()

