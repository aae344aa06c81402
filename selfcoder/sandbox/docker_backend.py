"""The `docker` backend: one container per sandbox, kept alive, with the executor as its pid 1.

Why a long-lived container with an attached executor: `docker exec` costs ~30 ms per command
(mini-swe-agent's `docker exec` CLI ~55 ms); a JSON line over the container's attach socket
costs well under a millisecond, so commands cost about what they cost in the local backend.

Isolation: `--network none`; memory (no swap), pids and CPU limits from cgroups on top of the
executor's per-command rlimits; a read-only root filesystem except the workspace (the host
snapshot dir, bind-mounted read-write at /workspace; a host tmpfs of `disk_mb` where we are
root, see executor_sandbox.py) and a tmpfs /tmp of `disk_mb`; nothing else is writable, so the
container's own storage cannot grow; all capabilities
dropped, no-new-privileges; a synthetic /etc/passwd. When we are root the container runs as
the sandbox's own uid (as in the local backend); otherwise as our uid, so workspace files stay ours.
Environment: the local backend's allow-list plus `spec.env`; no host variable gets in.
The snapshot and the baseline diff are the local backend's (`snapshot.py`, `baseline.py`).

Wire: the container is created with stdin open, we attach (stdin, stdout, stderr) before
starting it; without a tty the engine frames each chunk of stdout/stderr with an 8-byte
header (stream, 0, 0, 0, big-endian size), which the SDK's frame reader strips (`_AttachReader`).
The executor is the container's pid 1 and the only process inside holding the attach stream;
it makes itself non-dumpable, so commands (same uid, no capabilities) cannot take it over. Labels name the run
and the owner process so `selfcoder sandbox gc` can remove containers of killed runs.
"""

from __future__ import annotations

import io
import os
import socket
from pathlib import Path

from selfcoder.core.config import DEFAULT_IMAGE
from selfcoder.core.errors import SandboxError
from selfcoder.sandbox import workdirs
from selfcoder.sandbox.base import WORKDIR
from selfcoder.sandbox.executor_sandbox import BASE_ENV, HOME, ExecutorSandbox
from selfcoder.sandbox.client import EXECUTOR_DIR, ExecutorClient, ExecutorGone, executor_argv, line_cap
from selfcoder.sandbox.docker_client import docker_client
from selfcoder.sandbox.docker_gc import owner_labels

PYTHON = "/usr/bin/python3"
START_TIMEOUT_S = 60.0
LABEL_SANDBOX = "selfcoder.sandbox"
FIX_IMAGE = "build it: `selfcoder sandbox build-image` (or `sudo scripts/ensure-docker.sh`)"
STDERR_KEEP = 4096


def _configured_image() -> str:
    try:
        from selfcoder.core.config import load_settings

        return load_settings(None).settings.sandbox.image
    except Exception:  # a broken user config must not hide whether docker works
        return DEFAULT_IMAGE


def _require_image(client, image: str) -> None:
    import docker.errors

    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        raise SandboxError(f"docker image {image} not found", hint=FIX_IMAGE) from None
    except docker.errors.APIError as e:
        raise SandboxError(f"docker engine error while looking up {image}: {e.explanation or e}") from None


def docker_available(image: str | None = None) -> str | None:
    """None if the docker backend can create sandboxes here, else why not and how to fix it."""
    try:
        client = docker_client(timeout=10)
        try:
            _require_image(client, image or _configured_image())
        finally:
            client.close()
    except SandboxError as e:
        return str(e)
    return None


class _AttachReader(io.RawIOBase):
    """The executor's stdout out of the attach stream (stderr frames are kept for diagnostics).

    The frames are parsed by the docker SDK's own `frames_iter`: it yields each piece of a frame
    as soon as the socket has it (it does not wait for whole frames), so a reply line arrives
    as fast as the executor writes it; we only pick the stream and buffer what `readinto` leaves."""

    def __init__(self, sock: socket.socket):
        from docker.utils.socket import STDERR, frames_iter

        self._frames = frames_iter(sock, tty=False)
        self._stderr_id = STDERR
        self._pending = b""
        self.stderr = bytearray()
        self.eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, out) -> int:
        while not self._pending:
            try:
                stream, data = next(self._frames)
            except (StopIteration, OSError, ValueError):
                self.eof = True
                return 0
            if stream == self._stderr_id:  # Python tracebacks if the executor crashed
                self.stderr = (self.stderr + data)[-STDERR_KEEP:]
                continue
            self._pending = data
        n = min(len(out), len(self._pending))
        out[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


class _SocketWriter:
    def __init__(self, sock: socket.socket):
        self._sock = sock

    def write(self, data: bytes) -> int:
        self._sock.sendall(data)
        return len(data)

    def flush(self) -> None:
        pass


class DockerSandbox(ExecutorSandbox):
    backend = "docker"
    EXECUTOR_KILLED = "[the sandbox's main process was killed; the workspace is kept]\n"

    def _init_backend(self) -> None:
        self._container: str | None = None
        self._sock: socket.socket | None = None
        self._reader: _AttachReader | None = None
        self.docker = docker_client()
        _require_image(self.docker, self.spec.image)

    # -- setup -----------------------------------------------------------------------------

    def _ids(self) -> tuple[int, int]:
        return (self.uid, self.uid) if self.uid is not None else (os.getuid(), os.getgid())

    def _prepare_files(self) -> None:
        self._write_identity()

    def _mounts(self) -> list:
        from docker.types import Mount as DockerMount

        def bind(host: Path | str, target: str, read_only: bool) -> DockerMount:
            return DockerMount(target, str(Path(host).absolute()), type="bind", read_only=read_only)

        mounts = [bind(self.workspace, WORKDIR, False), bind(self.dir / "executor", EXECUTOR_DIR, True),
                  bind(self.dir / "etc" / "passwd", "/etc/passwd", True),
                  bind(self.dir / "etc" / "group", "/etc/group", True)]
        return mounts + [bind(m.host, m.target, m.read_only) for m in self.spec.mounts]

    def _create(self) -> str:
        uid, gid = self._ids()
        mem = f"{self.limits.memory_mb}m"
        host_config = self.docker.api.create_host_config(
            mounts=self._mounts(),
            tmpfs={"/tmp": f"rw,nosuid,nodev,size={self.limits.disk_mb or self.limits.memory_mb}m,mode=1777"},
            read_only=True,
            network_mode="none",
            mem_limit=mem,
            memswap_limit=mem,  # no swap
            pids_limit=self.limits.pids,
            nano_cpus=int((self.limits.cpus or os.cpu_count() or 1) * 1e9),
            cpu_shares=512,  # the host stays responsive when a sandbox spins
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
        )
        env = dict(BASE_ENV, **{k: str(v) for k, v in self.spec.env.items()})
        # `sh` makes HOME on the fresh tmpfs, then becomes the executor (pid 1, reaps orphans).
        argv = ["/bin/sh", "-c", f'mkdir -p {HOME} && exec "$@"', "sh",
                *executor_argv(PYTHON, self.limits, WORKDIR, own_pid_namespace=True)]
        labels = dict(owner_labels(self.spec.run_id or self.id), **{LABEL_SANDBOX: self.id})
        created = self.docker.api.create_container(
            self.spec.image, argv, user=f"{uid}:{gid}", environment=env, working_dir=WORKDIR,
            hostname="sandbox", labels=labels, stdin_open=True, detach=False, tty=False, host_config=host_config,
            name=f"selfcoder-{self.id}"[:120], network_disabled=True,
        )
        return created["Id"]

    def _start(self) -> None:
        import docker.errors

        try:
            self._container = self._create()
            workdirs.write_owner(self.dir, container=self._container)
            raw = self.docker.api.attach_socket(self._container,
                                                params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
            self._sock = getattr(raw, "_sock", raw)
            self._reader = _AttachReader(self._sock)
            self.docker.api.start(self._container)
        except docker.errors.APIError as e:
            raise SandboxError(f"docker could not start the sandbox container: {e.explanation or e}") from None
        self._aborted = False
        self._client = ExecutorClient(io.BufferedReader(self._reader), _SocketWriter(self._sock), self._abort,
                                      max_line=line_cap(self.limits))
        try:
            self._client.wait_ready(START_TIMEOUT_S)
        except ExecutorGone:
            why = self._reader.stderr.decode(errors="replace").strip().splitlines()
            raise SandboxError(f"the sandbox container exited at start: {why[-1] if why else 'no message'}") from None

    # -- teardown --------------------------------------------------------------------------

    def _abort(self) -> None:
        """Watchdog: the executor missed its deadline; kill the container (ends the pending read)."""
        self._aborted = True
        self._stop_container()

    def _stop_container(self) -> None:
        """Shut the attach socket (a pending read returns EOF) and force-remove the container."""
        import docker.errors

        sock, cid = self._sock, self._container
        self._sock, self._container = None, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if cid is not None:
            try:
                self.docker.api.remove_container(cid, force=True, v=True)
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as e:
                if e.status_code != 409:  # 409: removal already in progress
                    raise SandboxError(f"cannot remove container {cid[:12]}: {e.explanation or e}") from None
        if sock is not None:
            sock.close()

    def _client_or_restart(self) -> ExecutorClient:
        with self._lock:
            if self._closed:
                raise SandboxError(f"sandbox {self.id} is closed")
            if self._reader is None or self._reader.eof or self._container is None:
                self._stop_container()  # the executor died (e.g. killed by the OOM killer): new container
                self._start()
            assert self._client is not None
            return self._client

    # -- the Sandbox interface -------------------------------------------------------------

    def leftovers(self) -> list[str]:
        found = [f"directory {self.dir}"] if self.dir.exists() else []
        try:
            for c in self.docker.containers.list(all=True, filters={"label": f"{LABEL_SANDBOX}={self.id}"}):
                found.append(f"container {c.name} ({c.status})")
        except Exception as e:  # the engine went away: say so rather than claim all is clean
            found.append(f"container state unknown: {e}")
        return found + [f"mount {m}" for m in workdirs.mounts_under(self.dir)]

    def _teardown(self) -> None:
        try:
            self._stop_container()
        finally:
            if self.uid is not None and os.geteuid() == 0:
                workdirs.kill_uid(self.uid, wait_s=2.0)  # nothing should be left; be sure before rmtree
            workdirs.remove_tree(self.dir)
            self.docker.close()  # its connection pool; `leftovers()` may still ask (reconnects)
