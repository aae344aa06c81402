"""Remove what dead sandbox owners left behind (`selfcoder sandbox gc`).

A `selfcoder` process killed with SIGKILL cannot clean up. Its bubblewrap processes die with it
(--die-with-parent), but its sandbox directory stays, and a process that somehow outlived the
sandbox would still run under the sandbox's uid. `gc()` looks at every directory under
`workdirs.sandboxes_root()`: when the owner recorded in `owner.json` is dead it kills the
sandbox's processes and removes the directory. It also kills stray bubblewrap processes whose
argv names an owner that is dead (whatever sandbox root they used), and removes docker
containers of dead owners.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from selfcoder.errors import SandboxError
from selfcoder.sandbox import workdirs
from selfcoder.sandbox.local import MARKER_VAR, OWNER_VAR

UNOWNED_GRACE_S = 600.0  # a directory without owner.json may be one being created right now


@dataclass
class GcReport:
    directories: list[str] = field(default_factory=list)
    processes: list[int] = field(default_factory=list)
    containers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.directories or self.processes or self.containers)


def gc(*, dry_run: bool = False, docker: bool = True) -> GcReport:
    """Remove leftovers of dead owners; with `dry_run` only report what would go."""
    report = GcReport()
    live: set[str] = set()
    root = workdirs.sandboxes_root()
    if root.is_dir():
        for path in sorted(root.iterdir()):
            if path.is_dir() and not _collect_dir(path, report, dry_run):
                live.add(path.name)
    for pid, sid, owner in _marked_processes():
        # a sandbox under another root (another user, a test's private root) is not ours to
        # judge by directory: it is stray only when the owner named in its argv is dead
        # (or, for an argv without owner, when it was re-parented)
        if sid not in live and (not workdirs.owner_alive(owner) if owner else _orphaned(pid)):
            report.processes.append(pid)
            if not dry_run:
                _kill(pid)
    if docker:
        _gc_docker(report, dry_run)
    return report


def _collect_dir(path: Path, report: GcReport, dry_run: bool) -> bool:
    """Remove `path` if its owner is dead; True if it was (or would be) removed."""
    info = workdirs.read_owner(path)
    if info is None:
        try:
            if time.time() - path.stat().st_mtime < UNOWNED_GRACE_S:
                return False
        except OSError:
            return False
    elif workdirs.owner_alive(info):
        return False
    info = info or {}
    if not dry_run:
        pid, start = info.get("bwrap_pid"), info.get("bwrap_start")
        if isinstance(pid, int) and start is not None and workdirs.process_start_time(pid) == start:
            _kill(pid)
            report.processes.append(pid)
        uid = info.get("uid")
        if isinstance(uid, int) and os.geteuid() == 0:
            report.processes.extend(workdirs.kill_uid(uid))
        workdirs.remove_tree(path)
    report.directories.append(str(path))
    return True


def _marked_processes() -> list[tuple[int, str, dict | None]]:
    """Bubblewrap processes started by a local sandbox: (pid, sandbox id, owner {"pid", "start"})."""
    found = []
    marker, owner_key = f"{MARKER_VAR}\0".encode(), f"{OWNER_VAR}\0".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read()
        except OSError:
            continue
        if not argv.split(b"\0", 1)[0].endswith(b"bwrap") or marker not in argv:
            continue
        sid = argv.split(marker, 1)[1].split(b"\0", 1)[0].decode(errors="replace")
        owner = None
        if owner_key in argv:
            pid, _, start = argv.split(owner_key, 1)[1].split(b"\0", 1)[0].decode(errors="replace").partition(":")
            if pid.isdigit() and start.isdigit():
                owner = {"pid": int(pid), "start": int(start)}
        found.append((int(entry), sid, owner))
    return found


def _orphaned(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            ppid = int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return False
    return ppid == 1 or not os.path.exists(f"/proc/{ppid}")


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def _gc_docker(report: GcReport, dry_run: bool) -> None:
    try:
        from selfcoder.sandbox.docker_gc import gc_containers
    except ImportError:
        return
    try:
        report.containers.extend(gc_containers(dry_run=dry_run))
    except ImportError as e:
        report.notes.append(f"docker: SDK not installed ({e.name})")
    except SandboxError as e:
        report.notes.append(f"docker: skipped, {e}")
