"""What every executor-backed backend shares: commands and file operations go to the
long-lived executor inside the sandbox (see executor.py), and the diff comes from the
host-side baseline, never from anything inside the sandbox.

A backend subclass starts the executor its own way (bubblewrap, a container) and provides
`_client_or_restart()`; it keeps `id`, `limits`, `_baseline`, `_closed` and `_aborted`.
"""

from __future__ import annotations

import time
from typing import Mapping, Sequence

from selfcoder.errors import SandboxError
from selfcoder.sandbox.base import WORKDIR, ExecResult, OutputCallback, Sandbox
from selfcoder.sandbox.client import ExecutorClient, ExecutorGone


class ExecutorSandbox(Sandbox):
    #: what `run()` reports when the executor died under a command (a `kill -9 -1`, the OOM killer)
    EXECUTOR_KILLED = "[every process in the sandbox was killed; the workspace is kept]\n"

    def _client_or_restart(self) -> ExecutorClient:
        raise NotImplementedError

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
