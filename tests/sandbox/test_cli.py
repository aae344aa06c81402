"""`selfcoder sandbox run|check|gc` as a user runs them (a real subprocess, the local backend)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from selfcoder.sandbox import check_backends, workdirs
from selfcoder.sandbox.gc import gc


def selfcoder(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "selfcoder.cli", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "SELFCODER_SANDBOX__BACKEND": "local", **(env or {})}, timeout=120)


def test_run_shows_output_and_exit_code(tmp_path):
    (tmp_path / "hello.txt").write_text("hello\n")
    res = selfcoder("sandbox", "run", "--repo", str(tmp_path), "--", "cat hello.txt; echo oops >&2; exit 4",
                    cwd=tmp_path)
    assert res.returncode == 4 and res.stdout == "hello\noops\n", res.stderr
    res = selfcoder("sandbox", "run", "--repo", str(tmp_path), "--", "python3", "-c", "print('argv ok')", cwd=tmp_path)
    assert res.returncode == 0 and res.stdout == "argv ok\n"


def test_run_reports_timeout_and_diff_on_stderr(tmp_path):
    (tmp_path / "f.txt").write_text("f\n")
    res = selfcoder("sandbox", "run", "--repo", str(tmp_path), "--timeout", "1", "--", "sleep 30", cwd=tmp_path)
    assert res.returncode == 137 and "timed out" in res.stderr
    res = selfcoder("sandbox", "run", "--repo", str(tmp_path), "--diff", "--", "echo g >> f.txt", cwd=tmp_path)
    assert res.returncode == 0 and "+g" in res.stderr
    assert (tmp_path / "f.txt").read_text() == "f\n", "the repository itself is never written"


def test_user_mistakes_are_one_line_errors(tmp_path):
    res = selfcoder("sandbox", "run", "--repo", str(tmp_path / "nope"), "--", "true", cwd=tmp_path)
    assert res.returncode == 5 and "does not exist" in res.stderr and "Traceback" not in res.stderr
    res = selfcoder("sandbox", "run", "--backend", "vm", "--repo", str(tmp_path), "--", "true", cwd=tmp_path)
    assert res.returncode == 5 and "allowed: local, docker" in res.stderr


def test_check_lists_backends(tmp_path):
    res = selfcoder("sandbox", "check", cwd=tmp_path)
    assert res.returncode == 0 and "local" in res.stdout and "docker" in res.stdout
    assert "local sandbox memory/processes: " in res.stdout and "local sandbox disk: " in res.stdout
    assert check_backends()["local"] is None


def test_gc_removes_dead_owners_leftovers_only(tmp_path, monkeypatch):
    """Only this test's leftovers are in view: its own sandbox root and its own temp dir (the run
    I/O directories that other tests' killed runs leave in /tmp are not this test's to judge)."""
    root, tmp = tmp_path / "sandboxes", tmp_path / "tmp"
    tmp.mkdir()
    env = {"SELFCODER_SANDBOX_ROOT": str(root), "TMPDIR": str(tmp)}
    monkeypatch.setenv("SELFCODER_SANDBOX_ROOT", str(root))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    _, live_dir = workdirs.new_sandbox_dir("local", "live")
    dead = subprocess.Popen(["sleep", "0"])
    dead.wait()
    _, dead_dir = workdirs.new_sandbox_dir("local", "dead")
    (dead_dir / "owner.json").write_text(json.dumps({"pid": dead.pid, "start": 1, "backend": "local"}))
    assert gc(dry_run=True, docker=False).directories == [str(dead_dir)] and dead_dir.exists()
    res = selfcoder("sandbox", "gc", cwd=tmp_path, env=env)
    assert res.returncode == 0 and f"removed directory {dead_dir}" in res.stdout
    assert not dead_dir.exists() and live_dir.exists()
    assert "nothing to clean up" in selfcoder("sandbox", "gc", cwd=tmp_path, env=env).stdout
