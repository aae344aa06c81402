"""The contract every sandbox backend keeps (run once per backend through the `backend` fixture):
commands and exit codes, files, snapshots, the diff, timeouts, output caps, environment
isolation, cancel and cleanup."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import pytest

from selfcoder.core.errors import SandboxError
from selfcoder.sandbox import Limits, SandboxSpec, open_sandbox
from waiting import unique_sleep, wait_for_process

from .conftest import SMALL, assert_no_leftovers, git, run_id, sandbox_digest, tree_digest


def test_commands_exit_codes_and_interleaved_output(open_sb, tmp_path):
    sb = open_sb(tmp_path)
    res = sb.run("echo out; echo err >&2; exit 3")
    assert (res.exit_code, res.output, res.timed_out, res.truncated_bytes) == (3, "out\nerr\n", False, 0)
    assert not res.ok and res.duration_s >= 0
    res = sb.run(["python3", "-c", "import sys; print(sys.argv[1:])", "a b", "$HOME"])
    assert res.ok and res.output == "['a b', '$HOME']\n"
    assert sb.run("kill -TERM $$").exit_code == 128 + 15
    assert sb.run(["no-such-program-xyz"]).exit_code == 127
    assert sb.run("no-such-program-xyz").exit_code == 127


def test_cwd_env_and_state_between_commands(open_sb, tmp_path):
    sb = open_sb(tmp_path, env={"EXTRA_VAR": "from-spec"})
    assert sb.run("pwd").output == "/workspace\n"
    assert sb.run("pwd", cwd="/tmp").output == "/tmp\n"
    assert sb.run("echo $EXTRA_VAR-$OVERRIDE", env={"OVERRIDE": "per-command"}).output == "from-spec-per-command\n"
    assert sb.run("echo state > /tmp/kept && mkdir -p sub").ok
    assert sb.run("cat /tmp/kept && ls -d sub").output == "state\nsub\n"
    assert sb.run("test -w $HOME && touch $HOME/x").ok, "HOME must exist and be writable"


def test_read_and_write_files(open_sb, tmp_path):
    (tmp_path / "orig.txt").write_text("original\n")
    sb = open_sb(tmp_path)
    assert sb.read_file("orig.txt") == b"original\n"
    sb.write_file("deep/er/new.txt", "héllo\n")
    sb.write_file("/workspace/bin.dat", b"\x00\xff\x10")
    sb.write_file("/tmp/scratch.txt", "tmp")
    assert sb.run("cat deep/er/new.txt; wc -c < bin.dat; cat /tmp/scratch.txt").output == "héllo\n3\ntmp"
    assert sb.read_file("/workspace/deep/er/new.txt") == "héllo\n".encode()
    sb.run("printf 'from inside' > made.txt")
    assert sb.read_file("made.txt") == b"from inside"
    with pytest.raises(FileNotFoundError):
        sb.read_file("missing.txt")
    with pytest.raises(OSError):
        sb.write_file("/usr/not-allowed.txt", "x")
    assert not (tmp_path / "deep").exists(), "the source must never be written"


def test_diff_round_trip_applies_on_the_original(open_sb, repo, tmp_path):
    sb = open_sb(repo)
    assert sb.diff() == ""
    script = (
        "set -e; echo 'changed' >> README.md; printf 'new\\n' > pkg/new_mod.py; rm blob.bin; "
        "head -c 3000 /dev/urandom > noise.bin; printf 'x\\0y' > untracked.txt; chmod -x run.sh; "
        "ln -s README.md readme-link; rm link.py; mkdir -p a/b && echo deep > a/b/c.txt; "
        "mkdir -p __pycache__ && echo junk > __pycache__/x.pyc; "
        "git add -A && git commit -qm 'agent rewrites history' && rm -rf .git"
    )
    res = sb.run(script)
    assert res.ok, res.output
    patch = sb.diff()
    assert "GIT binary patch" in patch and "deleted file mode" in patch and "new file mode" in patch
    assert "__pycache__" not in patch
    expected = sandbox_digest(sb)
    expected = {k: v for k, v in expected.items() if not k.startswith("__pycache__")}

    copy = tmp_path / "original"
    shutil.copytree(repo, copy, symlinks=True)
    shutil.rmtree(copy / ".git")
    for ignored in ("debug.log", "build"):  # not part of a git snapshot
        shutil.rmtree(copy / ignored) if (copy / ignored).is_dir() else (copy / ignored).unlink()
    subprocess.run(["git", "init", "-q"], cwd=copy, check=True)
    applied = subprocess.run(["git", "apply", "--whitespace=nowarn", "-"], cwd=copy, input=patch.encode(),
                             capture_output=True)
    assert applied.returncode == 0, applied.stderr.decode()
    assert tree_digest(copy) == expected


def test_snapshot_of_plain_directory_gets_a_fresh_git(open_sb, tmp_path):
    src = tmp_path / "plain"
    (src / "d").mkdir(parents=True)
    (src / "d" / "f.txt").write_text("f\n")
    (src / "nested" / ".git").mkdir(parents=True)  # a stray repo inside: its .git is not copied
    (src / "nested" / "n.txt").write_text("n\n")
    sb = open_sb(src)
    assert sb.run("cat d/f.txt nested/n.txt; test -e nested/.git || echo no-nested-git").output == "f\nn\nno-nested-git\n"
    log = sb.run("git log --oneline | wc -l; git status --porcelain")
    assert log.output == "1\n", log.output
    sb.run("echo more >> d/f.txt")
    assert "+more" in sb.run("git diff").output


def test_snapshot_of_git_head_with_uncommitted_changes(open_sb, repo):
    sb = open_sb(repo)
    files = set(sb.run("find . -path ./.git -prune -o \\( -type f -o -type l \\) -print | sort").output.split())
    assert files == {"./.gitignore", "./README.md", "./blob.bin", "./link.py", "./pkg/mod.py", "./run.sh",
                     "./staged.txt", "./untracked.txt"}
    assert sb.read_file("pkg/mod.py") == b"def f():\n    return 2\n"
    assert sb.run("test -x run.sh && readlink link.py").output == "pkg/mod.py\n"
    assert sb.read_file("blob.bin") == bytes(range(256)) * 4


def test_snapshot_of_git_at_commit(open_sb, repo):
    first = git(repo, "rev-list", "--max-parents=0", "HEAD").strip()
    sb = open_sb(repo, commit=first)
    assert sb.run("ls -A | grep -v '^.git$'").output == "README.md\n"
    assert sb.read_file("README.md") == b"version one\n"
    sb2 = open_sb(repo, commit="HEAD")
    assert sb2.read_file("pkg/mod.py") == b"def f():\n    return 1\n"
    assert sb2.run("test -e gone.txt && test ! -e untracked.txt").ok


def test_snapshot_of_tarball(open_sb, tmp_path):
    top = tmp_path / "proj-1.0"
    (top / "src").mkdir(parents=True)
    (top / "src" / "m.py").write_text("print('m')\n")
    tgz = tmp_path / "proj.tar.gz"
    with tarfile.open(tgz, "w:gz") as tar:
        tar.add(top, arcname="proj-1.0")
    sb = open_sb(tgz)
    assert sb.run("python3 src/m.py").output == "m\n"  # the single top directory is unwrapped


def test_bad_sources_are_one_line_errors(backend, tmp_path):
    (tmp_path / "notes.txt").write_text("not a tarball")
    for source, words in [(tmp_path / "missing", "does not exist"), (tmp_path / "notes.txt", "not a directory")]:
        with pytest.raises(SandboxError, match=words) as err:
            open_sandbox(SandboxSpec(source=source, limits=SMALL), backend)
        assert "\n" not in str(err.value)


def test_timeout_kills_the_whole_tree(open_sb, tmp_path):
    sb = open_sb(tmp_path)
    start = time.monotonic()
    res = sb.run("setsid sh -c 'sleep 300' & (sleep 301 &) ; echo started; sleep 302", timeout=1)
    assert res.timed_out and not res.ok and res.exit_code != 0
    assert res.output == "started\n"
    assert time.monotonic() - start < 120  # stopped at the timeout, long before the 300 s sleeps
    assert "sleep 30" not in sb.run("ps -eo args").output, "a background or setsid child survived"
    assert sb.run("echo still usable").output == "still usable\n"


def test_output_is_capped_head_and_tail(open_sb, tmp_path):
    sb = open_sb(tmp_path, limits=Limits(**{**SMALL.__dict__, "output_bytes": 10_000}))
    res = sb.run("echo START; head -c 500000 /dev/zero | tr '\\0' x; echo; echo END")
    assert res.ok
    assert res.output.startswith("START\n") and res.output.endswith("END\n")
    assert "bytes cut ...]" in res.output
    assert res.truncated_bytes == 500_000 + 11 - 10_000
    assert len(res.output) < 10_100


def test_streaming_output(open_sb, tmp_path):
    sb = open_sb(tmp_path)
    chunks: list[str] = []
    res = sb.run("for i in 1 2 3; do echo line$i; sleep 0.05; done", on_output=chunks.append)
    assert "".join(chunks) == res.output == "line1\nline2\nline3\n"
    assert len(chunks) >= 2


def test_environment_isolation(backend, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".netrc").write_text("machine example.com password HOMESECRET-42\n")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-ENVSECRET-42")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-ENVSECRET-42")
    monkeypatch.setenv("HOME", str(home))
    src = tmp_path / "src"
    src.mkdir()
    with open_sandbox(SandboxSpec(source=src, limits=SMALL, run_id=run_id()), backend) as sb:
        res = sb.run(f"env; cat ~/.netrc {home}/.netrc /root/.netrc; ls -a ~ /root; cat /proc/1/environ")
        assert "ENVSECRET" not in res.output and "HOMESECRET" not in res.output
        assert "API_KEY" not in res.output
        assert sb.run("echo $HOME").output.strip() != str(home)


def test_close_from_another_thread_cancels_a_running_command(backend, tmp_path):
    rid = run_id()
    sb = open_sandbox(SandboxSpec(source=tmp_path, limits=SMALL, run_id=rid), backend)
    results = []
    sleep = unique_sleep(300)
    worker = threading.Thread(target=lambda: results.append(sb.run(sleep)))
    worker.start()
    wait_for_process(sleep)  # the command runs; close() must stop it, not prevent it
    start = time.monotonic()
    sb.close()
    worker.join(120)
    assert not worker.is_alive() and time.monotonic() - start < 120  # long before the sleep's 300 s
    assert results[0].exit_code != 0
    sb.close()  # idempotent
    assert sb.leftovers() == []
    assert_no_leftovers(backend, rid)
    with pytest.raises(SandboxError):
        sb.run("true")


def test_cleanup_after_close_timeout_and_exception(backend, tmp_path):
    rid = run_id()
    spec = SandboxSpec(source=tmp_path, limits=SMALL, run_id=rid)
    sb = open_sandbox(spec, backend)
    sb.run("sleep 120 > /dev/null 2>&1 &")
    assert sb.leftovers(), "an open sandbox holds resources"
    sb.close()
    assert sb.leftovers() == []
    with open_sandbox(spec, backend) as sb2:
        assert sb2.run("sleep 120", timeout=0.5).timed_out
    assert sb2.leftovers() == []
    with pytest.raises(RuntimeError):
        with open_sandbox(spec, backend) as sb3:
            sb3.run("sleep 120 > /dev/null 2>&1 &")
            raise RuntimeError("boom")
    assert sb3.leftovers() == []
    assert_no_leftovers(backend, rid)


CHILD = """
import json, sys, time
from pathlib import Path
from selfcoder.sandbox import Limits, SandboxSpec, open_sandbox
sb = open_sandbox(SandboxSpec(source=Path(sys.argv[1]), run_id=sys.argv[2], limits=Limits(timeout_s=60)), sys.argv[3])
sb.run("sleep 300 > /dev/null 2>&1 &")
print(json.dumps(sb.leftovers()), flush=True)
time.sleep(300)
"""


def test_cleanup_after_the_owner_is_killed(backend, tmp_path):
    from selfcoder.sandbox.gc import gc

    rid = run_id()
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path), rid, backend], stdout=subprocess.PIPE,
                             text=True)
    try:
        held = json.loads(child.stdout.readline())
        assert held, "the child's sandbox should hold resources"
    finally:
        child.kill()
        child.wait()
    report = gc()
    assert any(rid in d for d in report.directories) or backend != "local"
    assert_no_leftovers(backend, rid)


def test_gateway_socket_and_mounts(open_sb, tmp_path):
    """The runner's pattern: the run's io dir mounted at RUN_DIR (read-only), a unix socket in it
    that the agent inside talks to; a read-write mount is writable, a read-only one is not."""
    import socket
    import tempfile

    from selfcoder.sandbox import LLM_SOCKET, RUN_DIR, Mount

    io_dir = Path(tempfile.mkdtemp(prefix="selfcoder-io-"))  # short path: unix socket names are limited
    shared = Path(tempfile.mkdtemp(prefix="selfcoder-rw-"))
    try:
        io_dir.chmod(0o755)
        shared.chmod(0o777)
        (io_dir / "task.json").write_text('{"task": 1}')
        (io_dir / "task.json").chmod(0o644)
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(io_dir / "llm.sock"))
        os.chmod(io_dir / "llm.sock", 0o666)
        server.listen(1)
        replies = []

        def serve():
            conn, _ = server.accept()
            replies.append(conn.recv(100))
            conn.sendall(b"pong")
            conn.close()

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        sb = open_sb(tmp_path, mounts=[Mount(io_dir, RUN_DIR), Mount(shared, "/shared", read_only=False)])
        client = ("import socket; s = socket.socket(socket.AF_UNIX); s.connect(%r); s.sendall(b'ping'); "
                  "print(s.recv(100).decode())" % LLM_SOCKET)
        res = sb.run(["python3", "-c", client], timeout=20)
        assert res.output == "pong\n", res.output
        thread.join(5)
        assert replies == [b"ping"]
        assert sb.run(f"cat {RUN_DIR}/task.json").output == '{"task": 1}'
        assert sb.run(f"touch {RUN_DIR}/x").exit_code != 0
        assert sb.run("echo out > /shared/result.txt").ok
        assert (shared / "result.txt").read_text() == "out\n"
        server.close()
    finally:
        shutil.rmtree(io_dir, ignore_errors=True)
        shutil.rmtree(shared, ignore_errors=True)
