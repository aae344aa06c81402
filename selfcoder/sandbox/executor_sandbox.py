"""What every executor-backed backend shares: commands and file operations go to the
long-lived executor inside the sandbox (see executor.py), and the diff comes from the
host-side baseline, never from anything inside the sandbox.

Creation is shared too: a sandbox directory owned by a fresh uid (or `spec.uid`), the
workspace and its baseline, the files every sandbox shows (/etc/passwd naming the sandbox user,
the executor).

Disk: the workspace and its baseline live in a tmpfs of `limits.disk_mb` mounted on the host at
`<dir>/data` (root only; elsewhere they live on the host disk, unbounded, and `disk_note` says
why). A tmpfs because it needs nothing from the host's filesystem (no quota support, no loop
device), the host still sees the files (the diff is taken host-side), and bind mounts carry it
into either backend. Its pages are RAM, used only as files are written.
Patch: `diff()` refuses a patch over `limits.patch_mb` or `limits.patch_files` (PatchTooLarge),
so a run that wrote a gigabyte of files ends with a clear status instead of a gigabyte patch.
A backend subclass adds its own state in `_init_backend()`, its files in `_prepare_files()`,
starts the executor its own way in `_start()` (bubblewrap, a container) and provides
`_client_or_restart()`.
"""

from __future__ import annotations

import errno
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Mapping, Sequence

from selfcoder.core.errors import PatchTooLarge, SandboxError
from selfcoder.sandbox import workdirs
from selfcoder.sandbox.base import WORKDIR, ExecResult, OutputCallback, Sandbox, SandboxSpec
from selfcoder.sandbox.client import EXECUTOR_FILES, ExecutorClient, ExecutorGone
from selfcoder.sandbox.snapshot import prepare_workspace

HOME = "/tmp/home"
BASE_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": HOME,
    "USER": "agent",
    "LOGNAME": "agent",
    "SHELL": "/bin/bash",
    "LANG": "C.UTF-8",
    "TERM": "dumb",
    "TMPDIR": "/tmp",
    "PAGER": "cat",
    "GIT_PAGER": "cat",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONUNBUFFERED": "1",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PIP_NO_INPUT": "1",
}


class ExecutorSandbox(Sandbox):
    #: what `run()` reports when the executor died under a command (a `kill -9 -1`, the OOM killer)
    EXECUTOR_KILLED = "[every process in the sandbox was killed; the workspace is kept]\n"

    def __init__(self, spec: SandboxSpec):
        self.spec = spec
        self.limits = spec.limits
        self._lock = threading.RLock()
        self._closed = False
        self._aborted = False
        self._client: ExecutorClient | None = None
        self.disk_note: str | None = None  # why the workspace's disk use is not bounded, if it is not
        self._data: Path | None = None
        self._init_backend()
        self.uid = _choose_uid(spec.uid)
        self.id, self.dir = workdirs.new_sandbox_dir(self.backend, spec.run_id, uid=self.uid)
        try:
            for mount in spec.mounts:
                if not Path(mount.host).exists():
                    raise SandboxError(f"mount source {mount.host} does not exist")
            self._data = self._data_dir()
            try:
                self.workspace, self._baseline = prepare_workspace(spec.source, spec.commit, self._data, self.uid)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                raise SandboxError(f"the snapshot of {spec.source} does not fit in the sandbox's disk limit "
                                   f"({self.limits.disk_mb} MB)", hint="raise sandbox.disk_mb") from None
            self._prepare_files()
            self._start()
        except BaseException:
            self.close()
            raise

    def _init_backend(self) -> None:
        """Hook: the backend's own state, set before anything is created (close() may need it)."""

    def _data_dir(self) -> Path:
        """`<dir>/data`, where the workspace and baseline go: a tmpfs of disk_mb where we can mount one."""
        data = self.dir / "data"
        data.mkdir(mode=0o700)
        if self.limits.disk_mb > 0:
            self.disk_note = workdirs.mount_tmpfs(data, self.limits.disk_mb, self.uid)
        else:
            self.disk_note = "disk_mb is 0"
        if self.disk_note is not None and self.uid is not None and os.geteuid() == 0:
            os.chown(data, self.uid, self.uid)
        return data

    def _disk_full(self) -> bool:
        if self._data is None or self.disk_note is not None:
            return False
        try:
            st = os.statvfs(self._data)
        except OSError:
            return False
        return st.f_bavail * st.f_frsize < (1 << 20)

    def _prepare_files(self) -> None:
        raise NotImplementedError

    def _start(self) -> None:
        raise NotImplementedError

    def _client_or_restart(self) -> ExecutorClient:
        raise NotImplementedError

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._teardown()

    def _teardown(self) -> None:
        """Kill everything of the sandbox and remove its directory (called once, by close)."""
        raise NotImplementedError

    def _write_identity(self) -> Path:
        """/etc/passwd and /etc/group naming the sandbox user, and the executor script; returns etc/."""
        uid = self.uid if self.uid is not None else os.getuid()
        gid = self.uid if self.uid is not None else os.getgid()
        etc = self.dir / "etc"
        etc.mkdir()
        (etc / "passwd").write_text(f"root:x:0:0:root:/root:/bin/sh\nagent:x:{uid}:{gid}:agent:{HOME}:/bin/bash\n"
                                    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
        (etc / "group").write_text(f"root:x:0:\nagent:x:{gid}:\nnogroup:x:65534:\n")
        (self.dir / "executor").mkdir()
        os.chmod(self.dir / "executor", 0o755)  # the sandbox uid reads it, whatever our umask
        for source in EXECUTOR_FILES:
            shutil.copyfile(source, self.dir / "executor" / source.name)
            os.chmod(self.dir / "executor" / source.name, 0o644)
        return etc

    def _executor_gone(self) -> None:
        """Hook: the executor is gone; the next `_client_or_restart()` must start a fresh one."""

    def run(self, cmd: str | Sequence[str], *, timeout: float | None = None, env: Mapping[str, str] | None = None,
            cwd: str = WORKDIR, on_output: OutputCallback | None = None) -> ExecResult:
        client = self._client_or_restart()
        timeout = self.limits.timeout_s if timeout is None else float(timeout)
        start = time.monotonic()
        try:
            return client.run(cmd, cwd=cwd, env=env, timeout=timeout, limits=self.limits, on_output=on_output)
        except ExecutorGone:
            self._executor_gone()
            duration = time.monotonic() - start
            if self._closed:
                return ExecResult(137, "[sandbox closed while the command was running]\n", duration)
            if self._aborted:
                return ExecResult(137, "[the sandbox stopped answering and was killed]\n", duration, timed_out=True)
            return ExecResult(137, self.EXECUTOR_KILLED, duration)

    def _file_op(self, op, *args):
        client = self._client_or_restart()
        try:
            return op(client, *args)
        except ExecutorGone as e:
            self._executor_gone()
            raise SandboxError(f"sandbox {self.id}: {e}") from None

    def read_file(self, path: str) -> bytes:
        return self._file_op(ExecutorClient.read, path)

    def write_file(self, path: str, data: bytes | str) -> None:
        self._file_op(ExecutorClient.write, path, data.encode() if isinstance(data, str) else data)

    def diff(self) -> str:
        if self._closed:
            raise SandboxError(f"sandbox {self.id} is closed; take the diff before closing it")
        try:
            patch = self._baseline.diff()
        except SandboxError:
            if self._disk_full():
                raise PatchTooLarge(f"the workspace is at its disk limit ({self.limits.disk_mb} MB); its change "
                                    "is too large to take as a patch") from None
            raise
        check_patch(patch, self.limits.patch_mb, self.limits.patch_files)
        return patch


def check_patch(patch: str, max_mb: int, max_files: int) -> None:
    """PatchTooLarge when `patch` is over `max_mb` megabytes or touches more than `max_files` files."""
    size = len(patch) if patch.isascii() else len(patch.encode("utf-8", "surrogateescape"))
    files = patch.count("\ndiff --git ") + patch.startswith("diff --git ")
    if max_mb and size > max_mb << 20:
        raise PatchTooLarge(f"the patch is {size / (1 << 20):.1f} MB ({files} files), over the {max_mb} MB cap")
    if max_files and files > max_files:
        raise PatchTooLarge(f"the patch touches {files} files, over the cap of {max_files}")


def _choose_uid(wanted: int | None) -> int | None:
    """`spec.uid` when given (checked), else a fresh one (root) or None (run as ourselves)."""
    if wanted is None:
        return workdirs.pick_uid()
    if os.geteuid() != 0:
        if wanted == os.getuid():
            return None
        raise SandboxError(f"a sandbox uid ({wanted}) can only be chosen when running as root")
    if wanted < workdirs.UID_BASE:
        raise SandboxError(f"sandbox uid {wanted} is below {workdirs.UID_BASE}: it could be a real user's",
                           hint="use selfcoder.sandbox.workdirs.pick_uid()")
    return wanted
