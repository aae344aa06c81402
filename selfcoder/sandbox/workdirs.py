"""Where sandboxes keep their host-side files, and who owns them.

Every sandbox gets `<root>/<id>/` (root: see `sandboxes_root()`)
with an `owner.json` naming the host process that created it (pid + its start time, so a
recycled pid is not mistaken for the owner). `selfcoder sandbox gc` removes what belongs to
dead owners: directories, processes still running under the sandbox's uid, containers.
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

UID_BASE = 100_000  # sandboxes run as UID_BASE + a random number (root only), one uid per sandbox
UID_SPAN = 1_000_000_000
OWNER_FILE = "owner.json"


def sandboxes_root() -> Path:
    """$SELFCODER_SANDBOX_ROOT, else /tmp/selfcoder-sandboxes (root) or /tmp/selfcoder-sandboxes-<uid>."""
    if "SELFCODER_SANDBOX_ROOT" in os.environ:
        return Path(os.environ["SELFCODER_SANDBOX_ROOT"])
    uid = os.geteuid()
    return Path("/tmp/selfcoder-sandboxes" if uid == 0 else f"/tmp/selfcoder-sandboxes-{uid}")


def process_start_time(pid: int) -> int | None:
    """Start time of `pid` in clock ticks since boot (field 22 of /proc/pid/stat); None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(b")") + 2:].split()
    return int(fields[19])


def pick_uid() -> int | None:
    """A fresh uid for a new sandbox when we are root (None otherwise: run as ourselves)."""
    return UID_BASE + 1 + secrets.randbelow(UID_SPAN) if os.geteuid() == 0 else None


def new_sandbox_dir(backend: str, run_id: str | None, **extra) -> tuple[str, Path]:
    """Create `<root>/<id>/` with an owner.json; returns (id, path)."""
    root = sandboxes_root()
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o711)  # traversable (the sandbox uid reaches its own dir), not listable
    prefix = "".join(c if c.isalnum() or c in "-_" else "-" for c in (run_id or backend))[:40]
    sid = f"{prefix}-{secrets.token_hex(4)}"
    path = root / sid
    path.mkdir(mode=0o711)
    write_owner(path, backend=backend, run_id=run_id, **extra)
    return sid, path


def write_owner(path: Path, **fields) -> None:
    info = read_owner(path) or {"pid": os.getpid(), "start": process_start_time(os.getpid()), "created": time.time()}
    info.update(fields)
    tmp = path / (OWNER_FILE + ".tmp")
    tmp.write_text(json.dumps(info))
    os.replace(tmp, path / OWNER_FILE)


def read_owner(path: Path) -> dict | None:
    try:
        return json.loads((path / OWNER_FILE).read_text())
    except (OSError, ValueError):
        return None


def owner_alive(info: dict) -> bool:
    pid = info.get("pid")
    return isinstance(pid, int) and process_start_time(pid) == info.get("start")


def pids_of_uid(uid: int) -> list[int]:
    """Live processes whose real uid is `uid` (a sandbox's uid is used by that sandbox only)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                for line in f:
                    if line.startswith("State:") and line.split()[1] == "Z":
                        break  # a zombie holds nothing; its parent reaps it
                    if line.startswith("Uid:"):
                        if int(line.split()[1]) == uid:
                            found.append(int(entry))
                        break
        except (OSError, ValueError, IndexError):
            continue
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


def remove_tree(path: Path) -> None:
    """rmtree that also copes with directories the sandbox made unreadable/unwritable."""

    def fix(func, p, exc):
        try:
            parent = os.path.dirname(p)
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
