"""Start, share and stop the llama.cpp server that serves the local model on 127.0.0.1.

One server per machine user, described by a state file under the cache dir
(`~/.cache/selfcoder/local-server/state.json`: pid, port, mode). Two ways it runs:

- `selfcoder model serve` (mode `serve`): in the foreground until Ctrl-C; gateways use it
  and leave it running.
- on demand (mode `on_demand`): a gateway that needs the model and finds no server starts a
  small detached supervisor (`python -m selfcoder.llm.local_server supervise ...`) that runs
  llama.cpp. Each gateway holds a *lease* file (with its pid) while it may call the model;
  the supervisor stops the server once no live lease has existed for `idle_stop_s`.
  A gateway killed with -9 leaves a lease whose pid is dead, which counts as released.

Starting is serialised with a file lock, so concurrent runs share one server.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

from selfcoder.errors import ModelError
from selfcoder.llm.local_model import llama_cpp_installed, model_path, verify
from selfcoder.llm.models import LOCAL_ALIAS

READY_TIMEOUT_S = 180.0


def cache_dir() -> Path:
    if os.environ.get("SELFCODER_CACHE_DIR"):
        return Path(os.environ["SELFCODER_CACHE_DIR"]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser() / "selfcoder"


def state_dir() -> Path:
    d = cache_dir() / "local-server"
    (d / "leases").mkdir(parents=True, exist_ok=True)
    return d


@dataclass(frozen=True)
class ServerState:
    pid: int  # the process that owns the server (supervisor or `model serve`)
    server_pid: int  # llama.cpp itself
    port: int
    mode: str  # "serve" | "on_demand"
    model: str
    threads: int
    n_ctx: int
    started: float

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def read_state() -> ServerState | None:
    """The running server, or None (a state file left by a dead process is removed)."""
    path = state_dir() / "state.json"
    try:
        state = ServerState(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None
    if not (_alive(state.pid) and _alive(state.server_pid)):
        path.unlink(missing_ok=True)
        return None
    return state


def is_ready(port: int, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=timeout) as r:
            return r.status == 200
    except OSError:
        return False


@contextmanager
def _start_lock(blocking: bool = True) -> Iterator[bool]:
    with open(state_dir() / "start.lock", "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def live_leases() -> list[Path]:
    alive = []
    for lease in (state_dir() / "leases").glob("*.lease"):
        try:
            pid = int(lease.name.split("-", 1)[0])
        except ValueError:
            pid = -1
        if _alive(pid):
            alive.append(lease)
        else:
            lease.unlink(missing_ok=True)
    return alive


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _log_tail(n: int = 1) -> str:
    try:
        lines = [l for l in (state_dir() / "server.log").read_text(errors="replace").splitlines() if l.strip()]
    except OSError:
        return ""
    return " | ".join(lines[-n:])


def check_installed(settings) -> Path:
    """The verified GGUF path, or a one-line ModelError telling how to install."""
    gguf = model_path(settings.models_dir)
    if not llama_cpp_installed() or not verify(gguf):
        raise ModelError("the local model is not installed", hint="run `selfcoder model install`")
    return gguf


def server_command(gguf: Path, port: int, threads: int, n_ctx: int) -> list[str]:
    return [
        sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", LOCAL_ALIAS,
        "--n_ctx", str(n_ctx), "--n_threads", str(threads), "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip


def run_server(settings, mode: str, idle_stop_s: float | None = None, on_ready=None) -> None:
    """Run llama.cpp in the foreground until it exits, a signal arrives or (on demand) it idles out."""
    gguf = check_installed(settings)
    port = settings.port or free_port()
    log = open(state_dir() / "server.log", "ab")
    child = subprocess.Popen(
        server_command(gguf, port, settings.threads, settings.n_ctx),
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    path = state_dir() / "state.json"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not is_ready(port, timeout=1.0):
            if child.poll() is not None:
                raise ModelError(f"the local model server exited ({child.returncode}): {_log_tail()}")
            if stop.is_set() or time.monotonic() > deadline:
                raise ModelError(f"the local model server did not answer within {READY_TIMEOUT_S:.0f} s")
            time.sleep(0.25)
        state = ServerState(os.getpid(), child.pid, port, mode, str(gguf), settings.threads, settings.n_ctx, time.time())
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(state)))
        tmp.replace(path)
        if on_ready:
            on_ready(state)
        idle_since: float | None = None
        while not stop.wait(0.5):
            if child.poll() is not None:
                break
            if idle_stop_s is None:
                continue
            if live_leases():
                idle_since = None
                continue
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since >= idle_stop_s:
                with _start_lock(blocking=False) as locked:
                    if locked and not live_leases():
                        path.unlink(missing_ok=True)  # no gateway can pick it up from here on
                        break
    finally:
        try:
            if read_state() and read_state().pid == os.getpid():  # type: ignore[union-attr]
                path.unlink(missing_ok=True)
        finally:
            if child.poll() is None:
                child.terminate()
                try:
                    child.wait(10)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
            log.close()


class Lease:
    """A gateway's claim on the local server; `release()` lets an on-demand server idle out."""

    def __init__(self, state: ServerState, path: Path):
        self.state = state
        self.path = path

    def release(self) -> None:
        self.path.unlink(missing_ok=True)


def acquire(settings) -> Lease:
    """Use the running server or start one on demand; returns a lease on it."""
    lease = state_dir() / "leases" / f"{os.getpid()}-{uuid.uuid4().hex[:8]}.lease"
    with _start_lock():
        lease.write_text(str(time.time()))
        try:
            state = read_state()
            if state is None:
                state = _start_on_demand(settings)
        except BaseException:
            lease.unlink(missing_ok=True)
            raise
    return Lease(state, lease)


def _start_on_demand(settings) -> ServerState:
    check_installed(settings)
    cmd = [
        sys.executable, "-m", "selfcoder.llm.local_server", "supervise",
        "--models-dir", str(settings.models_dir), "--threads", str(settings.threads), "--n-ctx", str(settings.n_ctx),
        "--port", str(settings.port), "--idle-stop", str(settings.idle_stop_s),
    ]  # fmt: skip
    with open(state_dir() / "server.log", "ab") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    threading.Thread(target=proc.wait, daemon=True).start()  # reap it whenever it exits
    deadline = time.monotonic() + READY_TIMEOUT_S + 10
    while time.monotonic() < deadline:
        state = read_state()
        if state is not None and state.pid == proc.pid:
            return state
        if proc.poll() is not None:
            raise ModelError(f"the local model server did not start: {_log_tail()}")
        time.sleep(0.25)
    os.kill(proc.pid, signal.SIGTERM)
    raise ModelError(f"the local model server did not become ready within {READY_TIMEOUT_S:.0f} s")


def stop_server(timeout: float = 15.0) -> bool:
    """Stop the running server (either mode). Returns False if none was running."""
    state = read_state()
    if state is None:
        return False
    os.kill(state.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (_alive(state.pid) or _alive(state.server_pid)):
        time.sleep(0.2)
    return True


def _main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m selfcoder.llm.local_server")
    p.add_argument("command", choices=["supervise"])
    p.add_argument("--models-dir", required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--n-ctx", type=int, default=8192)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--idle-stop", type=float, default=300.0)
    a = p.parse_args(argv)
    from selfcoder.config import LocalModelSettings

    s = LocalModelSettings(models_dir=Path(a.models_dir), threads=a.threads, n_ctx=a.n_ctx, port=a.port, idle_stop_s=a.idle_stop)
    try:
        run_server(s, "on_demand", idle_stop_s=a.idle_stop)
    except ModelError as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(_main())
