"""Start, share and stop the llama.cpp server that serves the local model on 127.0.0.1.

One server per machine user, described by a state file under the cache dir
(`~/.cache/selfcoder/local-server/state.json`: pid, port, mode, API key). Any local user can reach
127.0.0.1, so each server gets a random API key at start (`--api_key`: llama.cpp answers 401
without it); the state file that holds it is 0600 and gateways send it. Two ways it runs:

- `selfcoder model serve` (mode `serve`): in the foreground until Ctrl-C; gateways use it
  and leave it running.
- on demand (mode `on_demand`): a gateway that needs the model and finds no server starts a
  small detached supervisor (`python -m selfcoder.llm.local_server supervise ...`) that runs
  llama.cpp. Each gateway holds a *lease* file (with its pid) while it may call the model;
  the supervisor stops the server once no live lease has existed for `idle_stop_s`.
  A gateway killed with -9 leaves a lease whose pid is dead, which counts as released.

Starting is serialised with a file lock, so concurrent runs share one server.

When llama.cpp dies on its own, the process that started it records what happened
(`last_crash.json`, see local_state.py, which holds the files this module writes and gateways
read). `threads = 0` or `"auto"` means every CPU this process may use (`available_cpus`).
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
from dataclasses import asdict
from pathlib import Path
from typing import Iterator

from selfcoder.core.errors import ModelError
from selfcoder.llm.cpus import available_cpus, resolve_threads  # noqa: F401 - part of this module's API
from selfcoder.llm.local_model import llama_cpp_installed, model_path, verify
from selfcoder.llm.local_state import (ServerState, alive, crash_message, last_crash, live_leases, log_tail,
                                       read_state, record_crash, state_dir)
from selfcoder.llm.models import LOCAL_ALIAS
from selfcoder.core.config import cache_dir  # noqa: F401 - bench/solve_rate*.py import it from here
from selfcoder.core.files import new_secret, write_private

READY_TIMEOUT_S = 180.0


def is_ready(port: int, timeout: float = 2.0, api_key: str = "") -> bool:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/models", headers={"Authorization": f"Bearer {api_key}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_installed(settings) -> Path:
    """The verified GGUF path, or a one-line ModelError telling how to install."""
    gguf = model_path(settings.models_dir)
    if not llama_cpp_installed() or not verify(gguf):
        raise ModelError("the local model is not installed", hint="run `selfcoder model install`")
    return gguf


def server_command(gguf: Path, port: int, threads: int, n_ctx: int, api_key: str) -> list[str]:
    return [
        sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", LOCAL_ALIAS,
        "--n_ctx", str(n_ctx), "--n_threads", str(threads), "--host", "127.0.0.1", "--port", str(port),
        "--api_key", api_key,
        # llama-cpp-python's default cuts a streamed reply short (no finish_reason) whenever another
        # request arrives; concurrent attempts, eval workers and editor runs share this one server
        "--interrupt_requests", "False",
        # the server's default (True) keeps every position's logits: an n_ctx x vocabulary array of floats
        # (5 GB at 8192 x 151,936) filled as contexts grow, and the output layer run on every prompt token;
        # selfcoder never asks for logprobs, so only the last token's logits are computed and kept
        "--logits_all", "False",
    ]  # fmt: skip


def run_server(settings, mode: str, idle_stop_s: float | None = None, on_ready=None,
               server_cmd: list[str] | None = None) -> None:
    """Run llama.cpp in the foreground until it exits, a signal arrives or (on demand) it idles out.

    `server_cmd` replaces the llama.cpp command (its "{port}" and "{api_key}" are filled in): the tests run a tiny
    real server there that crashes or stalls on purpose. A server that dies on its own is recorded
    (`record_crash`)."""
    port = settings.port or free_port()
    threads = resolve_threads(settings.threads)
    key = new_secret()
    if server_cmd:
        gguf, cmd = Path(server_cmd[0]), [a.replace("{port}", str(port)).replace("{api_key}", key) for a in server_cmd]
    else:
        gguf = check_installed(settings)
        cmd = server_command(gguf, port, threads, settings.n_ctx, key)
    log = open(state_dir() / "server.log", "ab")
    child = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    path = state_dir() / "state.json"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not is_ready(port, timeout=1.0, api_key=key):
            if child.poll() is not None:
                raise ModelError(crash_message(record_crash(child.pid, child.returncode, "starting")))
            if stop.is_set() or time.monotonic() > deadline:
                raise ModelError(f"the local model server did not answer within {READY_TIMEOUT_S:.0f} s")
            time.sleep(0.25)
        state = ServerState(os.getpid(), child.pid, port, mode, str(gguf), threads, settings.n_ctx, time.time(), key)
        write_private(path, json.dumps(asdict(state)))
        if on_ready:
            on_ready(state)
        idle_since: float | None = None
        while not stop.wait(0.2):
            if child.poll() is not None:
                record_crash(child.pid, child.returncode, "serving")  # it ended without being asked to
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


def acquire(settings, server_cmd: list[str] | None = None) -> Lease:
    """Use the running server or start one on demand (`server_cmd`: see `run_server`); returns a lease."""
    lease = state_dir() / "leases" / f"{os.getpid()}-{uuid.uuid4().hex[:8]}.lease"
    with _start_lock():
        lease.write_text(str(time.time()))
        try:
            state = read_state()
            if state is None:
                state = _start_on_demand(settings, server_cmd)
        except BaseException:
            lease.unlink(missing_ok=True)
            raise
    return Lease(state, lease)


def _start_on_demand(settings, server_cmd: list[str] | None = None) -> ServerState:
    if not server_cmd:
        check_installed(settings)
    cmd = [
        sys.executable, "-m", "selfcoder.llm.local_server", "supervise",
        "--models-dir", str(settings.models_dir), "--threads", str(settings.threads), "--n-ctx", str(settings.n_ctx),
        "--port", str(settings.port), "--idle-stop", str(settings.idle_stop_s),
    ]  # fmt: skip
    if server_cmd:
        cmd += ["--server-cmd", json.dumps(server_cmd)]
    started = time.time()
    with open(state_dir() / "server.log", "ab") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    threading.Thread(target=proc.wait, daemon=True).start()  # reap it whenever it exits
    deadline = time.monotonic() + READY_TIMEOUT_S + 10
    while time.monotonic() < deadline:
        state = read_state()
        if state is not None and state.pid == proc.pid:
            return state
        if proc.poll() is not None:
            crash = last_crash()
            if crash and crash.get("phase") == "starting" and crash.get("time", 0) >= started:
                raise ModelError(crash_message(crash))
            raise ModelError(f"the local model server did not start: {log_tail()}")
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
    while time.monotonic() < deadline and (alive(state.pid) or alive(state.server_pid)):
        time.sleep(0.2)
    return True


def _main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m selfcoder.llm.local_server")
    p.add_argument("command", choices=["supervise"])
    p.add_argument("--models-dir", required=True)
    p.add_argument("--threads", default="auto", help="a number, or auto (every CPU this process may use)")
    p.add_argument("--n-ctx", type=int, default=8192)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--idle-stop", type=float, default=300.0)
    p.add_argument("--server-cmd", default=None, help="a JSON list replacing the llama.cpp command (tests)")
    a = p.parse_args(argv)
    from types import SimpleNamespace

    # a plain namespace: `threads` may be "auto" whatever LocalModelSettings accepts
    s = SimpleNamespace(models_dir=Path(a.models_dir), threads=a.threads, n_ctx=a.n_ctx, port=a.port, idle_stop_s=a.idle_stop)
    try:
        run_server(s, "on_demand", idle_stop_s=a.idle_stop, server_cmd=json.loads(a.server_cmd) if a.server_cmd else None)
    except ModelError as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(_main())
