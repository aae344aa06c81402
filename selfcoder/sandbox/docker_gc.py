"""Who owns a sandbox container, and removing the containers whose owner is gone.

Why: a `selfcoder` process killed with SIGKILL (or a crashed machine) cannot remove its
containers. Every container the docker backend creates carries labels naming its owner:
host name, boot id, pid and the pid's start time (so a reused pid is not mistaken for
the owner). `selfcoder sandbox gc` removes containers whose owner is provably dead.
Containers created from another host (a shared $DOCKER_HOST) are left alone unless
`all_hosts` is set, since we cannot see that host's processes.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

LABEL_RUN = "selfcoder.run"
LABEL_HOST = "selfcoder.owner.host"
LABEL_BOOT = "selfcoder.owner.boot_id"
LABEL_PID = "selfcoder.owner.pid"
LABEL_START = "selfcoder.owner.start"


def boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def process_start(pid: int) -> str:
    """The start time of `pid` as a label value ('' if no such process); see workdirs."""
    from selfcoder.sandbox.workdirs import process_start_time

    start = process_start_time(pid)
    return "" if start is None else repr(start)


def owner_labels(run_id: str) -> dict[str, str]:
    """Labels for a container owned by this process."""
    pid = os.getpid()
    return {
        LABEL_RUN: run_id,
        LABEL_HOST: socket.gethostname(),
        LABEL_BOOT: boot_id(),
        LABEL_PID: str(pid),
        LABEL_START: process_start(pid),
    }


def owner_alive(labels: dict[str, str], *, all_hosts: bool = False) -> bool:
    """False when the owner is provably gone; True when alive or (other host) unknowable."""
    if labels.get(LABEL_HOST) != socket.gethostname():
        return not all_hosts
    if labels.get(LABEL_BOOT) != boot_id():
        return False  # this host rebooted since: every process of that boot is gone
    try:
        pid = int(labels.get(LABEL_PID, ""))
    except ValueError:
        return False
    start = process_start(pid)
    return bool(start) and start == labels.get(LABEL_START)


def gc_containers(client=None, *, all_hosts: bool = False, dry_run: bool = False) -> list[str]:
    """Force-remove every `selfcoder.run`-labelled container whose owner is dead.

    Returns the names of the containers removed (or that would be, with `dry_run`)."""
    import docker.errors

    if client is None:
        from selfcoder.sandbox.docker_client import docker_client

        client = docker_client()
    removed: list[str] = []
    for container in client.containers.list(all=True, filters={"label": LABEL_RUN}):
        if owner_alive(container.labels, all_hosts=all_hosts):
            continue
        if not dry_run:
            try:
                container.remove(force=True, v=True)
            except docker.errors.NotFound:
                pass  # removed meanwhile (by its owner's close, or another gc)
        removed.append(container.name)
    return removed
