"""Host side of the executor protocol (see `selfcoder/sandbox/executor.py` for the wire format).

Backends start the executor inside their sandbox (bubblewrap process, container attach socket)
and wrap its stdin/stdout in an `ExecutorClient`. The client serialises requests (one at a time),
turns replies into `ExecResult`s and errors into Python exceptions, and has a watchdog: if the
executor does not answer by the deadline it calls `abort()` (the backend kills the sandbox),
which makes the pending read end with EOF instead of hanging forever.
"""

from __future__ import annotations

import base64
import errno as errno_mod
import itertools
import json
import os
import threading
import time
from pathlib import Path
from typing import IO, Callable, Mapping, Sequence

from selfcoder.core.errors import SandboxError
from selfcoder.sandbox.base import ExecResult, Limits, OutputCallback

EXECUTOR_SOURCE = Path(__file__).with_name("executor.py")
EXECUTOR_FILES = (EXECUTOR_SOURCE, EXECUTOR_SOURCE.with_name("executor_limits.py"))  # what runs inside
EXECUTOR_DIR = "/.selfcoder"  # where backends mount EXECUTOR_FILES, read-only, inside the sandbox
EXECUTOR_PATH = f"{EXECUTOR_DIR}/executor.py"
WATCHDOG_GRACE_S = 15.0  # the executor enforces timeouts itself; this only catches a hung executor
# The longest line the host accepts. The largest honest reply is a command's capped output
# (output_bytes, up to 6 bytes of JSON per byte) or a file read (read_file refuses files over
# MAX_READ_BYTES, base64: 4/3). Anything longer is not our executor talking: a reader that
# waited for the newline would grow host memory without bound (a 2 GiB line took 4 GB).
MIN_LINE_CAP = 8 << 20
MAX_READ_BYTES = 16 << 20  # test reports (JUnit XML) of large suites run to several MB


def line_cap(limits: Limits) -> int:
    return max(MIN_LINE_CAP, 6 * limits.output_bytes + (1 << 16), MAX_READ_BYTES * 4 // 3 + (1 << 16))


class ExecutorGone(SandboxError):
    """The executor stopped answering: the sandbox was closed, killed, or crashed."""


def limits_payload(limits: Limits) -> dict:
    """The `limits` object of a run request / the executor's `--limits` flag."""
    return {
        "memory_mb": limits.memory_mb,
        "pids": limits.pids,
        "cpu_s": limits.cpu_s,
        "file_size_mb": limits.file_size_mb,
        "output_bytes": limits.output_bytes,
    }


def executor_argv(python: str, limits: Limits, workdir: str, *, own_pid_namespace: bool,
                  fds: tuple[int, int] | None = None) -> list[str]:
    """The command line that starts the executor inside a sandbox; `fds` = (requests, replies)
    when the protocol pipes are not the executor's stdin/stdout."""
    argv = [python, "-I", "-B", EXECUTOR_PATH, "--workdir", workdir, "--limits", json.dumps(limits_payload(limits))]
    if fds is not None:
        argv += ["--in-fd", str(fds[0]), "--out-fd", str(fds[1])]
    return argv + (["--own-pid-namespace"] if own_pid_namespace else [])


class _Watchdog:
    """Calls `action` if a deadline passes while armed. One thread per client, started on demand
    and gone after a minute without work (a Timer thread per request costs more than a command)."""

    IDLE_EXIT_S = 60.0

    def __init__(self, action: Callable[[], None]):
        self._action = action
        self._cond = threading.Condition()
        self._deadline: float | None = None
        self._running = False

    def arm(self, seconds: float) -> None:
        with self._cond:
            self._deadline = time.monotonic() + seconds
            if not self._running:
                self._running = True
                threading.Thread(target=self._loop, name="sandbox-watchdog", daemon=True).start()
            else:
                self._cond.notify()

    def disarm(self) -> None:
        with self._cond:
            self._deadline = None

    def _loop(self) -> None:
        with self._cond:
            while True:
                if self._deadline is None:
                    if not self._cond.wait(self.IDLE_EXIT_S) and self._deadline is None:
                        self._running = False
                        return
                    continue
                remaining = self._deadline - time.monotonic()
                if remaining > 0:
                    self._cond.wait(remaining)
                    continue
                self._deadline = None
                self._cond.release()
                try:
                    self._action()
                finally:
                    self._cond.acquire()


class ExecutorClient:
    """Talks to one executor. `reader` needs `readline()` (bytes), `writer` `write()` + `flush()`.

    `abort` is called (from a watchdog thread) when the executor misses a deadline; it must make
    `reader.readline()` return (normally by killing the sandbox process)."""

    def __init__(self, reader: IO[bytes], writer: IO[bytes], abort: Callable[[], None],
                 max_line: int = MIN_LINE_CAP):
        self._reader = reader
        self._max_line = max_line
        self._writer = writer
        self._abort = abort
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._watchdog = _Watchdog(abort)
        self.ready: dict | None = None

    # -- low level -------------------------------------------------------------------------

    def _recv(self) -> dict:
        try:
            line = self._reader.readline(self._max_line + 1)
        except (OSError, ValueError) as e:
            raise ExecutorGone(f"sandbox executor connection failed: {e}") from None
        if not line:
            raise ExecutorGone("sandbox executor exited")
        if len(line) > self._max_line:
            self._abort()  # kill the sandbox: whatever wrote this is not a well-behaved executor
            raise SandboxError(f"the sandbox sent a protocol line over {self._max_line >> 20} MB; the sandbox "
                               "was killed (its executor is broken or was taken over)")
        try:
            return json.loads(line)
        except ValueError:
            raise SandboxError(f"sandbox executor sent garbage: {line[:200]!r}") from None

    def _send(self, obj: dict) -> None:
        try:
            self._writer.write((json.dumps(obj) + "\n").encode())
            self._writer.flush()
        except (OSError, ValueError) as e:
            raise ExecutorGone(f"sandbox executor is gone: {e}") from None

    def wait_ready(self, timeout: float = 30.0) -> dict:
        """Wait for the executor's greeting; ExecutorGone if it died first (e.g. bwrap failed)."""
        self._watchdog.arm(timeout)
        try:
            msg = self._recv()
        finally:
            self._watchdog.disarm()
        if msg.get("type") != "ready":
            raise SandboxError(f"sandbox executor did not start properly: {msg}")
        self.ready = msg
        return msg

    def request(self, req: dict, *, deadline_s: float | None = 60.0,
                on_output: OutputCallback | None = None) -> dict:
        """Send one request, return its final reply (output events go to `on_output`)."""
        with self._lock:
            req = dict(req, id=next(self._ids))
            self._send(req)
            if deadline_s is not None:
                self._watchdog.arm(deadline_s)
            try:
                while True:
                    msg = self._recv()
                    if msg.get("id") != req["id"]:
                        continue  # a stale reply (cannot happen with one request at a time)
                    if msg.get("type") == "output":
                        if on_output is not None:
                            on_output(msg.get("data", ""))
                        continue
                    return msg
            finally:
                self._watchdog.disarm()

    @staticmethod
    def _raise(msg: dict, path: str) -> None:
        name = msg.get("errno")
        code = getattr(errno_mod, name, None) if name else None
        text = msg.get("message", "unknown error")
        if code is not None:
            raise OSError(code, os.strerror(code), path)  # FileNotFoundError etc. by errno
        raise SandboxError(f"sandbox: {text}")

    # -- operations ------------------------------------------------------------------------

    def run(self, cmd: str | Sequence[str], *, cwd: str, env: Mapping[str, str | None] | None,
            timeout: float, limits: Limits, on_output: OutputCallback | None = None) -> ExecResult:
        if not isinstance(cmd, str):
            cmd = [str(c) for c in cmd]
            if not cmd:
                raise SandboxError("empty command")
        msg = self.request(
            {"op": "run", "cmd": cmd, "cwd": cwd, "env": dict(env or {}), "timeout": timeout,
             "limits": limits_payload(limits), "stream": on_output is not None},
            deadline_s=timeout + WATCHDOG_GRACE_S,
            on_output=on_output,
        )
        if msg.get("type") != "exit":
            self._raise(msg, cwd)
        return ExecResult(
            exit_code=int(msg["exit_code"]),
            output=msg.get("output", ""),
            duration_s=float(msg.get("duration_s", 0.0)),
            timed_out=bool(msg.get("timed_out")),
            truncated_bytes=int(msg.get("truncated_bytes", 0)),
        )

    def read(self, path: str) -> bytes:
        msg = self.request({"op": "read", "path": path, "max_bytes": MAX_READ_BYTES})
        if msg.get("type") != "file":
            self._raise(msg, path)
        return base64.b64decode(msg["data_b64"])

    def write(self, path: str, data: bytes, mode: int | None = None) -> None:
        req = {"op": "write", "path": path, "data_b64": base64.b64encode(data).decode("ascii")}
        if mode is not None:
            req["mode"] = mode
        msg = self.request(req)
        if msg.get("type") != "ok":
            self._raise(msg, path)
