"""Attacks on the sandbox from issue 8 (findings 5, 8, 9, 11): each test failed before the fix.

5: a command takes the executor's reply pipe (pidfd_getfd / ptrace / /proc/<pid>/fd) and forges
   a passing result; an endless protocol line grows host memory.
8: other local users read a private repository's files through the sandbox directory; an
   unsafe sandboxes root; the caller's choice of uid.
9: memory summed over processes, disk use, and patch size are bounded for the whole sandbox.
11: `sandbox gc` sweeps the runner's I/O directories of dead owners.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import threading
import time

import pytest

from selfcoder.core.errors import PatchTooLarge, SandboxError
from selfcoder.sandbox import Limits, SandboxSpec, open_sandbox, workdirs
from selfcoder.sandbox.client import ExecutorClient

from .conftest import SMALL, run_id

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (per-sandbox uids, other users, mounts)")

# Runs inside the sandbox: try every way to reach another process's fds, write forged replies
# (for every plausible request id) wherever it can, report what worked.
HIJACK = r"""
import ctypes, json, os
libc = ctypes.CDLL(None, use_errno=True)
PIDFD_OPEN, PIDFD_GETFD, PTRACE_SEIZE = 434, 438, 0x4206
me, executor = os.getpid(), os.getppid()
forged = "".join(json.dumps({"id": i, "type": "exit", "exit_code": 0, "output": "FORGED\n",
                             "truncated_bytes": 0, "duration_s": 0.0, "timed_out": False}) + "\n"
                 for i in range(1, 300)).encode()
report = {}
def err():
    return os.strerror(ctypes.get_errno())
for pid in sorted(int(p) for p in os.listdir("/proc") if p.isdigit()):
    if pid == me:
        continue
    r = report.setdefault("executor" if pid == executor else str(pid), [])
    r.append("ptrace:" + ("ATTACHED" if libc.ptrace(PTRACE_SEIZE, pid, 0, 0) == 0 else err()))
    pidfd = libc.syscall(PIDFD_OPEN, pid, 0)
    if pidfd < 0:
        r.append("pidfd_open:" + err())
        continue
    for fd in range(0, 12):
        got = libc.syscall(PIDFD_GETFD, pidfd, fd, 0)
        if got < 0:
            if ctypes.get_errno() != 9:  # EBADF: no such fd
                r.append("getfd%d:%s" % (fd, err()))
            continue
        try:
            os.write(got, forged)
            r.append("WROTE-getfd%d" % fd)
        except OSError:
            pass
    for fd in range(0, 12):
        try:
            f = os.open("/proc/%d/fd/%d" % (pid, fd), os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            os.write(f, forged)
            r.append("WROTE-procfd%d" % fd)
        except OSError:
            pass
print(json.dumps(report))
raise SystemExit(3)
"""


def test_commands_cannot_take_over_the_executor(open_sb, tmp_path):
    sb = open_sb(tmp_path)
    sb.write_file("/tmp/hijack.py", HIJACK)
    res = sb.run("python3 /tmp/hijack.py", timeout=60)
    assert res.exit_code == 3 and "FORGED" not in res.output, res.output  # the real result reached the host
    report = json.loads(res.output)
    attempts = report["executor"]
    assert "ptrace:Operation not permitted" in attempts, attempts
    assert not [a for a in attempts if "WROTE" in a or "ATTACHED" in a], attempts
    for i in range(3):  # no forged reply is waiting in the pipe for a later request either
        assert sb.run(f"echo real{i}; exit {i + 4}").output == f"real{i}\n"
        assert sb.run(f"exit {i + 4}").exit_code == i + 4


def test_commands_cannot_change_the_executors_code(open_sb, tmp_path):
    """The executor's two files are mounted read-only at /.selfcoder and loaded by path: a command
    can neither change them nor plant an `executor_limits` that a restarted executor would load."""
    sb = open_sb(tmp_path)
    for name in ("executor.py", "executor_limits.py"):
        for cmd in (f"echo x >> /.selfcoder/{name}", f"rm -f /.selfcoder/{name}", f"mv /.selfcoder/{name} /tmp/"):
            assert sb.run(cmd).exit_code != 0, cmd
    assert sb.run("touch /.selfcoder/planted.py").exit_code != 0
    planted = "open('/workspace/PLANTED', 'w').write('ran')\nraise SystemExit(9)\n"
    for where in ("/workspace", "/workspace/.selfcoder", "/tmp"):
        sb.run(f"mkdir -p {where}")
        sb.write_file(f"{where}/executor_limits.py", planted)
    assert sb.run("kill -9 -1").exit_code != 0  # the executor too: the next command starts a fresh one
    res = sb.run("ulimit -c; ls /workspace")
    assert res.ok and res.output.startswith("0\n") and "PLANTED" not in res.output, res.output


def test_an_endless_protocol_line_kills_the_sandbox_not_the_host():
    r, w = os.pipe()
    aborted: list[bool] = []
    client = ExecutorClient(os.fdopen(r, "rb"), io.BytesIO(), lambda: aborted.append(True), max_line=1 << 20)
    written = [0]

    def flood() -> None:
        try:
            for _ in range(256):  # 256 MB without a newline
                written[0] += os.write(w, b"x" * (1 << 20))
        except OSError:
            pass

    writer = threading.Thread(target=flood, daemon=True)
    writer.start()
    with pytest.raises(SandboxError, match="over 1 MB; the sandbox was killed") as err:
        client.request({"op": "ping"})
    assert aborted == [True] and "\n" not in str(err.value)
    time.sleep(0.2)
    assert written[0] < 16 << 20, "the host read on, past the cap"
    client._reader.close()
    writer.join(10)
    os.close(w)


def test_reading_a_file_over_the_read_cap_is_a_clear_error(open_sb, tmp_path):
    """read_file's own cap keeps every honest reply under the protocol line cap."""
    import errno

    from selfcoder.sandbox.client import MAX_READ_BYTES

    sb = open_sb(tmp_path)
    assert sb.run(f"head -c {MAX_READ_BYTES} /dev/zero > fits && head -c {MAX_READ_BYTES + 1} /dev/zero > big").ok
    assert len(sb.read_file("fits")) == MAX_READ_BYTES
    with pytest.raises(OSError) as err:
        sb.read_file("big")
    assert err.value.errno == errno.EFBIG
    assert sb.run("echo still").output == "still\n"


@ROOT_ONLY
def test_other_local_users_cannot_read_the_workspace(open_sb, repo):
    sb = open_sb(repo)
    files = [os.path.join(d, f) for d, _, fs in os.walk(sb.dir) for f in fs]
    assert any(f.endswith("pkg/mod.py") for f in files) and any("/objects/" in f for f in files)
    probe = "import sys\nfor p in sys.argv[1:]:\n    try:\n        open(p, 'rb').read(); print('READ', p)\n" \
            "    except OSError:\n        pass\n"
    other = subprocess.run(["python3", "-c", probe, *files], user=65534, group=65534, extra_groups=[],
                           capture_output=True, text=True, timeout=60)
    assert other.returncode == 0 and other.stdout == "", other.stdout[:500]
    st = os.stat(sb.dir)  # 0700, owned by the sandbox uid: root and the sandbox only
    assert st.st_mode & 0o777 == 0o700 and st.st_uid == sb.uid


@pytest.mark.parametrize("kind", ["symlink", "group-writable", "foreign"])
def test_unsafe_sandboxes_root_is_refused(kind, tmp_path, monkeypatch):
    real = tmp_path / "real"
    real.mkdir(mode=0o711)
    root = real
    if kind == "symlink":
        root = tmp_path / "link"
        root.symlink_to(real)
    elif kind == "group-writable":
        real.chmod(0o777)
    else:
        if os.geteuid() != 0:
            pytest.skip("only root can make a directory owned by someone else")
        os.chown(real, 65534, 65534)
    monkeypatch.setenv("SELFCODER_SANDBOX_ROOT", str(root))
    with pytest.raises(SandboxError, match="refusing the sandboxes root") as err:
        open_sandbox(SandboxSpec(source=tmp_path, limits=SMALL, run_id=run_id()), "local")
    message = str(err.value)
    assert str(root) in message and "SELFCODER_SANDBOX_ROOT" in message and "\n" not in message
    assert list(real.iterdir()) == []


@ROOT_ONLY
def test_the_caller_may_choose_the_sandbox_uid(backend, tmp_path):
    uid = workdirs.pick_uid()
    with open_sandbox(SandboxSpec(source=tmp_path, limits=SMALL, uid=uid), backend) as sb:
        assert sb.uid == uid and sb.run("id -u").output == f"{uid}\n"
        assert os.stat(sb.dir).st_uid == uid
    with pytest.raises(SandboxError, match="below"):
        open_sandbox(SandboxSpec(source=tmp_path, limits=SMALL, uid=1000), backend)


MEMORY_HOLDER = "import sys, time\ndata = b'x' * (200 << 20)\nprint('holding', flush=True)\ntime.sleep(60)\n"


def test_memory_limit_holds_for_the_whole_sandbox(open_sb, backend, tmp_path):
    if backend == "local":
        from selfcoder.sandbox.cgroups import cgroup_problem

        why = cgroup_problem()
        if why is not None:
            pytest.skip(f"no cgroup for local sandboxes here: {why}")
    sb = open_sb(tmp_path, limits=Limits(**{**SMALL.__dict__, "memory_mb": 400}))
    sb.write_file("/tmp/hold.py", MEMORY_HOLDER)
    # three processes of 200 MB each: every one is within its own 400 MB, together they are not
    res = sb.run("for i in 1 2 3; do python3 /tmp/hold.py & done; sleep 6; ps -eo args | grep -c '^python3 /tmp/hold'",
                 timeout=60)
    alive = int(res.output.strip().splitlines()[-1])
    assert alive < 3, res.output
    sb.run("pkill -f hold.py; true")
    assert sb.run("echo alive").output == "alive\n"


def test_disk_use_is_bounded(open_sb, tmp_path):
    sb = open_sb(tmp_path, limits=Limits(**{**SMALL.__dict__, "disk_mb": 64, "file_size_mb": 64}))
    fill = "for i in 1 2 3 4; do head -c 30000000 /dev/zero > {dir}/big$i || exit 9; done"
    places = ["/tmp"] + (["/workspace"] if os.geteuid() == 0 else [])
    for place in places:
        res = sb.run(fill.format(dir=place), timeout=60)
        assert res.exit_code == 9 and "No space left" in res.output, (place, res.output)
        assert sb.run(f"rm -f {place}/big*").ok
    if os.geteuid() == 0:
        host = sum(p.stat().st_size for p in sb.workspace.rglob("*") if p.is_file())
        assert host < 64 << 20
    assert sb.run("echo fine > ok.txt && cat ok.txt").output == "fine\n"


def test_patch_over_the_caps_is_refused(open_sb, tmp_path):
    sb = open_sb(tmp_path, limits=Limits(**{**SMALL.__dict__, "patch_mb": 1, "patch_files": 5}))
    assert sb.run("for i in 1 2 3 4 5; do echo $i > f$i.txt; done").ok
    assert sb.diff().count("diff --git") == 5
    sb.run("echo 6 > f6.txt")
    with pytest.raises(PatchTooLarge, match="6 files, over the cap of 5"):
        sb.diff()
    sb.run("rm f*.txt && head -c 3000000 /dev/urandom | base64 > big.txt")
    with pytest.raises(PatchTooLarge, match="over the 1 MB cap"):
        sb.diff()


def test_gc_sweeps_io_dirs_of_dead_owners(tmp_path, monkeypatch):
    from selfcoder.sandbox.gc import gc

    monkeypatch.setenv("SELFCODER_SANDBOX_ROOT", str(tmp_path / "sandboxes"))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    dead = subprocess.Popen(["true"])
    dead.wait()
    io = {name: tmp_path / f"selfcoder-io-{name}" for name in ("dead", "live", "old", "new")}
    for path in io.values():
        path.mkdir()
        (path / "scaffold.py").write_text("x")
    workdirs.write_owner(io["live"], kind="io")
    (io["dead"] / "owner.json").write_text(json.dumps({"pid": dead.pid, "start": 1.0, "kind": "io"}))
    two_days_ago = time.time() - 2 * 86400
    os.utime(io["old"], (two_days_ago, two_days_ago))
    target = tmp_path / "not-ours"
    target.mkdir()
    (target / "keep.txt").write_text("keep")
    os.utime(target, (two_days_ago, two_days_ago))
    (tmp_path / "selfcoder-io-link").symlink_to(target)
    expected = [str(io["dead"]), str(io["old"])]
    if os.geteuid() == 0:  # the runner hands its io dir to the sandbox uid; owner.json stays ours
        handed = tmp_path / "selfcoder-io-handed"
        handed.mkdir()
        (handed / "owner.json").write_text(json.dumps({"pid": dead.pid, "start": 1.0}))
        os.chown(handed, workdirs.UID_BASE + 7, -1)
        forged = tmp_path / "selfcoder-io-forged"  # another user's dir with a forged owner.json
        forged.mkdir()
        (forged / "owner.json").write_text(json.dumps({"pid": dead.pid, "start": 1.0}))
        os.chown(forged / "owner.json", workdirs.UID_BASE + 8, -1)
        os.chown(forged, workdirs.UID_BASE + 8, -1)
        expected = sorted(expected + [str(handed)])
    assert sorted(gc(dry_run=True, docker=False).directories) == expected
    assert io["dead"].exists()
    report = gc(docker=False)
    assert sorted(report.directories) == expected
    assert not io["dead"].exists() and not io["old"].exists()
    assert io["live"].exists() and io["new"].exists() and (target / "keep.txt").read_text() == "keep"


def test_gc_sweeps_stale_empty_cgroups_only(tmp_path, monkeypatch):
    from selfcoder.sandbox.cgroups import Cgroup
    from selfcoder.sandbox.gc import gc

    stale, why = Cgroup.create(f"selfcoder-{run_id()}-stale", 64, 16)
    if stale is None:
        pytest.skip(f"no cgroups here: {why}")
    fresh, _ = Cgroup.create(f"selfcoder-{run_id()}-fresh", 64, 16)
    try:
        long_ago = time.time() - 3600
        for path in stale.paths:
            os.utime(path, (long_ago, long_ago))
        monkeypatch.setenv("SELFCODER_SANDBOX_ROOT", str(tmp_path / "sandboxes"))
        report = gc(docker=False)
        assert sorted(report.cgroups) == sorted(map(str, stale.paths)) and not stale.exists()
        assert fresh.exists()
    finally:
        stale.remove()
        fresh.remove()
