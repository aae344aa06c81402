"""Remove what dead sandbox owners left behind (`selfcoder sandbox gc`).

A `selfcoder` process killed with SIGKILL cannot clean up. Its bubblewrap processes die with it
(--die-with-parent), but its sandbox directory stays, and a process that somehow outlived the
sandbox would still run under the sandbox's uid. `gc()` looks at every directory under
`workdirs.sandboxes_root()`: when the owner recorded in `owner.json` is dead it kills the
sandbox's processes and removes the directory. It also kills stray bubblewrap processes whose
argv names an owner that is dead (whatever sandbox root they used), removes the cgroups and
the workspace tmpfs such a sandbox left, and removes docker containers of dead owners.

It also sweeps the runner's I/O directories (`<tmp>/selfcoder-io-*`: the scaffold copy, the
gateway socket), which a run killed with SIGKILL leaves behind: the runner writes an owner.json
into each (`workdirs.write_owner(io_dir, kind="io")`); gc removes those whose owner is dead,
and those without owner.json older than a day (a run from before owner.json, or one killed
between mkdtemp and write_owner). Only real directories owned by us are touched: anyone can
create `/tmp/selfcoder-io-x`, and root following a planted symlink would remove other files.
"""

from __future__ import annotations

import os
import signal
import stat
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from selfcoder.core.errors import SandboxError
from selfcoder.sandbox import cgroups, workdirs
from selfcoder.sandbox.local import MARKER_VAR, OWNER_VAR

UNOWNED_GRACE_S = 600.0  # a directory without owner.json may be one being created right now
IO_PREFIX = "selfcoder-io-"  # the runner's I/O directories: tempfile.mkdtemp(prefix=IO_PREFIX)
IO_UNOWNED_S = 86_400.0  # an I/O directory without owner.json is swept after a day


@dataclass
class GcReport:
    directories: list[str] = field(default_factory=list)
    processes: list[int] = field(default_factory=list)
    containers: list[str] = field(default_factory=list)
    cgroups: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.directories or self.processes or self.containers or self.cgroups)


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
    _collect_io_dirs(report, dry_run)
    report.cgroups.extend(cgroups.sweep_stale(dry_run=dry_run))
    if docker:
        _gc_docker(report, dry_run)
    return report


def _collect_io_dirs(report: GcReport, dry_run: bool, tmp: Path | None = None) -> None:
    """Remove the runner's I/O directories of dead owners (see the module docstring)."""
    tmp = Path(tmp or tempfile.gettempdir())
    try:
        entries = sorted(tmp.glob(IO_PREFIX + "*"))
    except OSError:
        return
    for path in entries:
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode) or not _ours(path, st):
            continue
        info = workdirs.read_owner(path)
        if info is None:
            if st.st_uid != os.geteuid() or time.time() - st.st_mtime < IO_UNOWNED_S:
                continue
        elif workdirs.owner_alive(info):
            continue
        if not dry_run:
            workdirs.remove_tree(path)
        report.directories.append(str(path))


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
        groups = info.get("cgroups")
        if isinstance(groups, list):
            cgroups.remove_paths([g for g in groups if isinstance(g, str)])
        workdirs.remove_tree(path)  # unmounts the workspace tmpfs first
    report.directories.append(str(path))
    return True


def _ours(path: Path, st: os.stat_result) -> bool:
    """Made by a selfcoder process of ours: owned by us, or (root) handed to a sandbox uid with
    an owner.json that only we could have written (owned by root, not a link)."""
    if st.st_uid == os.geteuid():
        return True
    if os.geteuid() != 0 or st.st_uid < workdirs.UID_BASE:
        return False
    try:
        owner = os.lstat(path / workdirs.OWNER_FILE)
    except OSError:
        return False
    return stat.S_ISREG(owner.st_mode) and owner.st_uid == 0


def _marked_processes() -> list[tuple[int, str, dict | None]]:
    """Bubblewrap processes started by a local sandbox: (pid, sandbox id, owner {"pid", "start"})."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        argv = proc.info["cmdline"] or []
        if not argv or not argv[0].endswith("bwrap") or MARKER_VAR not in argv:
            continue
        sid = _value_after(argv, MARKER_VAR) or ""
        owner = None
        pid, _, start = (_value_after(argv, OWNER_VAR) or "").partition(":")
        if pid.isdigit():
            try:
                owner = {"pid": int(pid), "start": float(start)}
            except ValueError:
                owner = None
        found.append((proc.pid, sid, owner))
    return found


def _value_after(argv: list[str], name: str) -> str | None:
    """`--setenv NAME VALUE` in bwrap's argv: the VALUE."""
    i = argv.index(name) if name in argv else -1
    return argv[i + 1] if 0 <= i < len(argv) - 1 else None


def _orphaned(pid: int) -> bool:
    try:
        ppid = psutil.Process(pid).ppid()
    except psutil.Error:
        return False
    return ppid == 1 or not psutil.pid_exists(ppid)


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
