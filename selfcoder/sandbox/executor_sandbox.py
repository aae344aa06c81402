"""What every executor-backed backend shares: commands and file operations go to the
long-lived executor inside the sandbox (see executor.py), and the diff comes from the
host-side baseline, never from anything inside the sandbox.

Creation is shared too: a sandbox directory owned by a fresh uid, the workspace and its
baseline, the files every sandbox shows (/etc/passwd naming the sandbox user, the executor).
A backend subclass adds its own state in `_init_backend()`, its files in `_prepare_files()`,
starts the executor its own way in `_start()` (bubblewrap, a container) and provides
`_client_or_restart()`.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path
from typing import Mapping, Sequence

from selfcoder.errors import SandboxError
from selfcoder.sandbox import workdirs
from selfcoder.sandbox.base import WORKDIR, ExecResult, OutputCallback, Sandbox, SandboxSpec
from selfcoder.sandbox.client import EXECUTOR_SOURCE, ExecutorClient, ExecutorGone
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
        self._init_backend()
        self.uid = workdirs.pick_uid()
        self.id, self.dir = workdirs.new_sandbox_dir(self.backend, spec.run_id, uid=self.uid)
        try:
            for mount in spec.mounts:
                if not Path(mount.host).exists():
                    raise SandboxError(f"mount source {mount.host} does not exist")
            self.workspace, self._baseline = prepare_workspace(spec.source, spec.commit, self.dir, self.uid)
            self._prepare_files()
            self._start()
        except BaseException:
            self.close()
            raise

    def _init_backend(self) -> None:
        """Hook: the backend's own state, set before anything is created (close() may need it)."""

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
        shutil.copyfile(EXECUTOR_SOURCE, self.dir / "executor.py")
        os.chmod(self.dir / "executor.py", 0o644)
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
        return self._baseline.diff()
