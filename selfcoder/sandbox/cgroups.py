"""Whole-sandbox memory and process limits: a cgroup per local sandbox, where the host allows it.

Why: rlimits are per process. RLIMIT_AS=4 GB let three processes of one sandbox reach 6.2 GB
together. A cgroup counts the sandbox as a whole: memory (no swap) and the number of tasks.

Where: cgroup v2 (the unified hierarchy needs the `memory` and `pids` controllers enabled for
children) or v1 (the `memory` and `pids` hierarchies, one child in each). The child is created
under the cgroup we run in (that respects delegation: in a systemd user slice or a container we
may only write below our own cgroup) and, failing that, under the hierarchy's root in a
`selfcoder` subtree. When neither works (no permission, v2 without delegated controllers, the
"no internal processes" rule) `Cgroup.create` returns why, and the sandbox keeps the executor's
per-process rlimits only; `selfcoder sandbox check` says which applies.

The bubblewrap process is moved in before it execs (see local.py), so every process of the
sandbox is inside from its start. `close()` kills what is left in the group and removes it;
`selfcoder sandbox gc` removes groups whose owner died (their paths are in owner.json).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

CGROUP_FS = Path("/sys/fs/cgroup")
SUBTREE = "selfcoder"
MB = 1 << 20


def _own_cgroups() -> dict[str, str]:
    """controller ('' for v2) -> our cgroup path, from /proc/self/cgroup."""
    found = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) == 3:
            for controller in parts[1].split(",") if parts[1] else [""]:
                found[controller] = parts[2]
    return found


def _write(path: Path, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


def _make_child(parents: list[Path], name: str, prepare=None) -> tuple[Path | None, str]:
    """mkdir `name` under the first parent that allows it (after `prepare(parent)`)."""
    why = "no cgroup directory"
    for parent in parents:
        try:
            if prepare is not None:
                prepare(parent)
            child = parent / name
            child.mkdir(parents=False)
            return child, ""
        except OSError as e:
            why = f"{parent}: {e.strerror or e}"
    return None, why


def _v2_prepare(parent: Path) -> None:
    """Make sure `memory` and `pids` are available to the children of `parent` (for our own
    `selfcoder` subtree, first to the root's children: the root may delegate them, being exempt
    from the no-internal-processes rule)."""
    if parent == CGROUP_FS / SUBTREE:
        _v2_prepare(CGROUP_FS)
    if not parent.is_dir():
        parent.mkdir()
    have = (parent / "cgroup.subtree_control").read_text().split()
    missing = [c for c in ("memory", "pids") if c not in have]
    if missing:
        _write(parent / "cgroup.subtree_control", " ".join("+" + c for c in missing))


class Cgroup:
    """One sandbox's cgroup(s): a single v2 directory, or a v1 memory and a v1 pids directory."""

    def __init__(self, paths: list[Path], version: int):
        self.paths = paths
        self.version = version

    @classmethod
    def create(cls, name: str, memory_mb: int, pids: int) -> tuple["Cgroup | None", str]:
        """(the cgroup, "") or (None, why not)."""
        own = _own_cgroups()
        if (CGROUP_FS / "cgroup.controllers").exists():  # the unified (v2) hierarchy
            controllers = (CGROUP_FS / "cgroup.controllers").read_text().split()
            if not {"memory", "pids"} <= set(controllers):
                return None, "cgroup v2 without the memory/pids controllers"
            here = CGROUP_FS / own.get("", "/").lstrip("/")
            path, why = _make_child([here, CGROUP_FS / SUBTREE], name, _v2_prepare)
            if path is None:
                return None, f"cannot create a cgroup ({why})"
            group = cls([path], 2)
            try:
                _write(path / "memory.max", str(memory_mb * MB))
                if (path / "memory.swap.max").exists():
                    _write(path / "memory.swap.max", "0")
                _write(path / "pids.max", str(pids))
            except OSError as e:
                group.remove()
                return None, f"cannot set cgroup limits: {e.strerror or e}"
            return group, ""
        mem_root, pids_root = CGROUP_FS / "memory", CGROUP_FS / "pids"
        if not (mem_root / "cgroup.procs").exists() or not (pids_root / "cgroup.procs").exists():
            return None, "no cgroup v2 or v1 memory+pids hierarchy mounted at /sys/fs/cgroup"
        paths = []
        for root, controller in ((mem_root, "memory"), (pids_root, "pids")):
            here = root / own.get(controller, "/").lstrip("/")

            def subtree(parent: Path, root=root) -> None:
                if parent == root / SUBTREE and not parent.is_dir():
                    parent.mkdir()

            path, why = _make_child([here, root / SUBTREE], name, subtree)
            if path is None:
                cls(paths, 1).remove()
                return None, f"cannot create a cgroup ({why})"
            paths.append(path)
        group = cls(paths, 1)
        try:
            _write(paths[0] / "memory.limit_in_bytes", str(memory_mb * MB))
            if (paths[0] / "memory.memsw.limit_in_bytes").exists():  # no swap either
                _write(paths[0] / "memory.memsw.limit_in_bytes", str(memory_mb * MB))
            _write(paths[1] / "pids.max", str(pids))
        except OSError as e:
            group.remove()
            return None, f"cannot set cgroup limits: {e.strerror or e}"
        return group, ""

    def enter(self) -> None:
        """Move the calling process in (call it in the child between fork and exec, as root)."""
        for path in self.paths:
            _write(path / "cgroup.procs", str(os.getpid()))

    def pids(self) -> list[int]:
        found: set[int] = set()
        for path in self.paths:
            try:
                found.update(int(x) for x in (path / "cgroup.procs").read_text().split())
            except (OSError, ValueError):
                pass
        return sorted(found)

    def kill(self, wait_s: float = 5.0) -> None:
        """SIGKILL everything inside until the group is empty (or `wait_s` passes)."""
        deadline = time.monotonic() + wait_s
        while True:
            pids = self.pids()
            if not pids or time.monotonic() > deadline:
                return
            if self.version == 2 and (self.paths[0] / "cgroup.kill").exists():
                try:
                    _write(self.paths[0] / "cgroup.kill", "1")
                except OSError:
                    pass
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.02)

    def remove(self) -> None:
        """Kill what is left and remove the directories (idempotent)."""
        if self.paths:
            self.kill()
        for path in self.paths:
            _rmdir(path)

    def exists(self) -> bool:
        return any(path.exists() for path in self.paths)

    def memory_peak(self) -> int | None:
        """Highest memory use seen, in bytes (for tests and diagnostics)."""
        name = "memory.peak" if self.version == 2 else "memory.max_usage_in_bytes"
        try:
            return int((self.paths[0] / name).read_text())
        except (OSError, ValueError):
            return None


def _rmdir(path: Path, wait_s: float = 5.0) -> bool:
    """rmdir a cgroup, waiting while its last tasks finish exiting (EBUSY meanwhile)."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            path.rmdir()
            return True
        except FileNotFoundError:
            return True
        except OSError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)


def sweep_stale(min_age_s: float = 60.0, dry_run: bool = False) -> list[str]:
    """Empty `selfcoder-*` cgroups older than `min_age_s` (a close() whose rmdir lost a race with
    an exiting task, an owner killed before writing owner.json): remove them. A live sandbox's
    group holds its processes; a group younger than a minute may be one being set up."""
    found = []
    for dirpath, dirnames, _ in os.walk(CGROUP_FS):
        if dirpath.count("/") > 8:
            dirnames[:] = []
            continue
        for name in list(dirnames):
            path = Path(dirpath) / name
            if not name.startswith("selfcoder-"):
                continue
            dirnames.remove(name)  # never descend into a sandbox's group
            try:
                empty = not (path / "cgroup.procs").read_text().strip()
                old = time.time() - path.stat().st_mtime > min_age_s
            except OSError:
                continue
            if empty and old and (dry_run or _rmdir(path, 1.0)):
                found.append(str(path))
    return found


def remove_paths(paths: list[str]) -> None:
    """Remove cgroups recorded by a sandbox whose owner died (`selfcoder sandbox gc`)."""
    safe = [Path(p) for p in paths if Path(p).is_relative_to(CGROUP_FS) and ".." not in Path(p).parts]
    if safe:
        Cgroup(safe, 2 if len(safe) == 1 else 1).remove()


def cgroup_problem() -> str | None:
    """None when a local sandbox gets a cgroup here, else why not (for `sandbox check`)."""
    group, why = Cgroup.create(f"selfcoder-probe-{os.getpid()}", 64, 16)
    if group is None:
        return why
    group.remove()
    return None
