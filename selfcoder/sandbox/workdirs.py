"""Where sandboxes keep their host-side files, and who owns them.

Every sandbox gets `<root>/<id>/` (root: see `sandboxes_root()`)
with an `owner.json` naming the host process that created it (pid + its start time, so a
recycled pid is not mistaken for the owner). `selfcoder sandbox gc` removes what belongs to
dead owners: directories, processes still running under the sandbox's uid, containers, and
the runner's I/O directories (which carry an owner.json written with `write_owner`).

Who may look: the root is 0711 (the sandbox uid must traverse it to reach its own directory,
nobody may list it) and must be ours, not a symlink, not writable by others — else another
local user could swap a sandbox directory under us. Each sandbox directory is 0700 and owned
by the sandbox's uid when we switch uid (root, which creates it, reads everything anyway),
else by us: the path is visible in /proc/*/cmdline, so its contents must not be readable by
other local users. A group (0750) would serve the same end but needs a group per sandbox;
owning the directory by the sandbox uid needs nothing.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import stat
import time
from pathlib import Path

import psutil

from selfcoder.core.errors import SandboxError
from selfcoder.core.files import atomic_write

UID_BASE = 100_000  # sandboxes run as UID_BASE + a random number (root only), one uid per sandbox
UID_SPAN = 1_000_000_000
OWNER_FILE = "owner.json"


def sandboxes_root() -> Path:
    """$SELFCODER_SANDBOX_ROOT, else /tmp/selfcoder-sandboxes (root) or /tmp/selfcoder-sandboxes-<uid>."""
    if "SELFCODER_SANDBOX_ROOT" in os.environ:
        return Path(os.environ["SELFCODER_SANDBOX_ROOT"])
    uid = os.geteuid()
    return Path("/tmp/selfcoder-sandboxes" if uid == 0 else f"/tmp/selfcoder-sandboxes-{uid}")


def checked_root() -> Path:
    """`sandboxes_root()`, created 0711 if missing; refused when it is a symlink, not ours, or
    writable by group/others (someone else could then replace our sandboxes' directories)."""
    root = sandboxes_root()
    try:
        root.mkdir(mode=0o711, parents=True)
    except FileExistsError:
        pass
    except OSError as e:
        raise SandboxError(f"cannot create the sandboxes root {root}: {e.strerror}") from None
    st = os.lstat(root)
    problem = None
    if stat.S_ISLNK(st.st_mode):
        problem = "a symlink"
    elif not stat.S_ISDIR(st.st_mode):
        problem = "not a directory"
    elif st.st_uid != os.geteuid():
        problem = f"owned by uid {st.st_uid}, not by you (uid {os.geteuid()})"
    elif st.st_mode & 0o022:
        problem = f"writable by group or others (mode {stat.S_IMODE(st.st_mode):04o})"
    if problem:
        raise SandboxError(f"refusing the sandboxes root {root}: it is {problem}",
                           hint="remove it, or set SELFCODER_SANDBOX_ROOT to a directory you own with mode 0711")
    if stat.S_IMODE(st.st_mode) != 0o711:
        os.chmod(root, 0o711)  # traversable (the sandbox uid reaches its own dir), not listable
    return root


def process_start_time(pid: int) -> float | None:
    """When `pid` started (psutil's create_time, seconds since the epoch); None if gone.
    With the pid it names a process uniquely: a recycled pid has another start time."""
    try:
        return psutil.Process(pid).create_time()
    except (psutil.Error, ValueError):
        return None


def pick_uid() -> int | None:
    """A fresh uid for a new sandbox when we are root (None otherwise: run as ourselves)."""
    return UID_BASE + 1 + secrets.randbelow(UID_SPAN) if os.geteuid() == 0 else None


def new_sandbox_dir(backend: str, run_id: str | None, *, uid: int | None = None, **extra) -> tuple[str, Path]:
    """Create `<root>/<id>/` (0700, owned by `uid` when given and we are root) with an owner.json;
    returns (id, path)."""
    root = checked_root()
    prefix = "".join(c if c.isalnum() or c in "-_" else "-" for c in (run_id or backend))[:40]
    sid = f"{prefix}-{secrets.token_hex(4)}"
    path = root / sid
    path.mkdir(mode=0o700)
    os.chmod(path, 0o700)  # whatever the umask
    write_owner(path, backend=backend, run_id=run_id, uid=uid, **extra)
    if uid is not None and os.geteuid() == 0:
        os.chown(path, uid, uid)
    return sid, path


def write_owner(path: Path, **fields) -> None:
    """Record (or update) in `path/owner.json` that this process owns `path`, plus `fields`.
    `selfcoder sandbox gc` removes the directory once that process is dead. The runner calls
    it on its I/O directory: `write_owner(io_dir, kind="io", run_id=...)`."""
    info = read_owner(path) or {"pid": os.getpid(), "start": process_start_time(os.getpid()), "created": time.time()}
    info.update(fields)
    atomic_write(path / OWNER_FILE, json.dumps(info), sync=False)


def read_owner(path: Path) -> dict | None:
    try:
        return json.loads((path / OWNER_FILE).read_text())
    except (OSError, ValueError):
        return None


def owner_alive(info: dict) -> bool:
    pid = info.get("pid")
    return isinstance(pid, int) and process_start_time(pid) == info.get("start")


def pids_of_uid(uid: int) -> list[int]:
    """Live processes whose real uid is `uid` (a sandbox's uid is used by that sandbox only).
    Zombies are left out: they hold nothing, and their parent reaps them."""
    found = []
    for proc in psutil.process_iter(["uids", "status"]):
        uids, status = proc.info["uids"], proc.info["status"]
        if uids is not None and uids.real == uid and status != psutil.STATUS_ZOMBIE:
            found.append(proc.pid)
    return found


def kill_uid(uid: int, wait_s: float = 5.0) -> list[int]:
    """SIGKILL every process of `uid` until none is left (or `wait_s` passes). Root only."""
    killed: list[int] = []
    if uid is None or uid < UID_BASE:
        return killed  # never a real user's uid
    deadline = time.monotonic() + wait_s
    while True:
        pids = pids_of_uid(uid)
        if not pids or time.monotonic() > deadline:
            return killed
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                if pid not in killed:
                    killed.append(pid)
            except OSError:
                pass
        time.sleep(0.02)


_MS_NOSUID, _MS_NODEV, _MNT_DETACH = 2, 4, 2


def _libc():
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def mount_tmpfs(path: Path, size_mb: int, uid: int | None) -> str | None:
    """Mount a tmpfs of `size_mb` at the existing directory `path` (0700, owned by `uid` or us):
    what is written there can never exceed that size. Returns None, or why it could not
    (not root, no mount permission)."""
    import ctypes

    if os.geteuid() != 0:
        return "needs root to mount a size-limited tmpfs"
    owner = uid if uid is not None else os.geteuid()
    opts = f"size={int(size_mb)}m,mode=0700,uid={owner},gid={owner}".encode()
    if _libc().mount(b"tmpfs", os.fsencode(path), b"tmpfs", _MS_NOSUID | _MS_NODEV, opts) != 0:
        err = ctypes.get_errno()
        return f"mount(tmpfs) failed: {os.strerror(err)}"
    return None


def mounts_under(path: Path) -> list[str]:
    """Mount points at or below `path`, deepest first."""
    base = os.path.abspath(path)
    found = [p.mountpoint for p in psutil.disk_partitions(all=True)
             if p.mountpoint == base or p.mountpoint.startswith(base + "/")]
    return sorted(set(found), key=len, reverse=True)


def unmount_under(path: Path) -> list[str]:
    """Detach every mount at or below `path` (our workspace tmpfs) so it can be removed."""
    done = []
    for mountpoint in mounts_under(path):
        if _libc().umount2(os.fsencode(mountpoint), _MNT_DETACH) == 0:
            done.append(mountpoint)
    return done


def remove_tree(path: Path) -> None:
    """rmtree that also copes with directories the sandbox made unreadable/unwritable, and with
    the workspace tmpfs still mounted. A symlink is removed, never followed."""
    if os.path.islink(path):
        os.unlink(path)
        return
    if os.geteuid() == 0:
        unmount_under(path)

    def fix(func, p, exc):
        try:
            parent = os.path.dirname(p)
            if os.path.islink(parent):
                return  # never chmod through a link (it may point anywhere on the host)
            os.chmod(parent, stat.S_IRWXU)
            if os.path.isdir(p) and not os.path.islink(p):
                os.chmod(p, stat.S_IRWXU)
            func(p)
        except OSError:
            pass

    for _ in range(3):
        shutil.rmtree(path, onerror=fix)
        if not os.path.lexists(path):
            return
        time.sleep(0.05)
