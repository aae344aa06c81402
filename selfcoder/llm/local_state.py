"""The local model server's files under the cache dir, written by the process that runs
llama.cpp (local_server.py) and read by gateways and `selfcoder model status`:

- `state.json` (0600): the running server — pid, port, mode, API key (`ServerState`); a file left
  by a dead process counts as no server and is removed;
- `leases/<pid>-<id>.lease`: a gateway's claim on an on-demand server; a dead pid's is released;
- `server.log`: llama.cpp's output;
- `last_crash.json`: what happened when llama.cpp died on its own (a signal such as SIGILL from a
  CPU instruction the VM forbids, the out-of-memory killer, an exit code), the log's last lines and
  what to do; `crash_message` makes it the one `ModelError` line a gateway raises.
"""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from selfcoder.core.config import cache_dir
from selfcoder.core.files import atomic_write

CRASH_FILE = "last_crash.json"
LOG_TAIL_LINES = 5
_SIGNAL_MEANING = {
    "SIGILL": "illegal instruction", "SIGKILL": "out of memory? the kernel's OOM killer sends SIGKILL",
    "SIGSEGV": "segmentation fault", "SIGBUS": "bus error", "SIGABRT": "aborted", "SIGFPE": "arithmetic error",
    "SIGTERM": "terminated by someone else",
}  # fmt: skip


def state_dir() -> Path:
    """The local server's directory (made on first use, with its leases/)."""
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
    api_key: str = field(default="", repr=False)  # what llama.cpp requires (Authorization: Bearer)

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


def alive(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie is not)."""
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
    if not (alive(state.pid) and alive(state.server_pid)):
        path.unlink(missing_ok=True)
        return None
    return state


def live_leases() -> list[Path]:
    """The leases of live gateways; a dead gateway's lease (killed with -9) is removed."""
    held = []
    for lease in (state_dir() / "leases").glob("*.lease"):
        try:
            pid = int(lease.name.split("-", 1)[0])
        except ValueError:
            pid = -1
        if alive(pid):
            held.append(lease)
        else:
            lease.unlink(missing_ok=True)
    return held


def log_tail(n: int = 1) -> str:
    """The last `n` non-empty lines of server.log, joined by ' | '."""
    try:
        lines = [l for l in (state_dir() / "server.log").read_text(errors="replace").splitlines() if l.strip()]
    except OSError:
        return ""
    return " | ".join(lines[-n:])


# -- crashes ---------------------------------------------------------------------------------------
def describe_exit(returncode: int) -> str:
    """'was killed by SIGILL (illegal instruction)' or 'exited with code 1'."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            return f"was killed by signal {-returncode}"
        meaning = _SIGNAL_MEANING.get(name)
        return f"was killed by {name}" + (f" ({meaning})" if meaning else "")
    return f"exited with code {returncode}"


def _log_lines(n: int = LOG_TAIL_LINES) -> list[str]:
    try:
        with open(state_dir() / "server.log", "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return []
    return [line.strip()[:300] for line in text.splitlines() if line.strip()][-n:]


def record_crash(server_pid: int, returncode: int, phase: str) -> dict:
    """Write `last_crash.json` (what happened, the log's last lines, what to do) and return it."""
    tail = _log_lines()
    name = ""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
    if name == "SIGILL":
        hint = ("rebuild with `selfcoder model install --rebuild`, or with fewer CPU features: "
                "`SELFCODER_LLAMA_MAX_TIER=baseline selfcoder model install`")
    elif name == "SIGKILL" or any("out of memory" in l.lower() or "failed to allocate" in l.lower() for l in tail):
        hint = "free some memory or lower local_model.n_ctx, then run again"
    else:
        hint = "if it happens again, rebuild with `selfcoder model install --rebuild`"
    record = {"time": time.time(), "server_pid": server_pid, "returncode": returncode, "signal": name or None,
              "what": describe_exit(returncode), "phase": phase, "log": str(state_dir() / "server.log"),
              "log_tail": tail, "hint": hint}  # fmt: skip
    path = state_dir() / CRASH_FILE
    atomic_write(path, json.dumps(record, indent=2), sync=False)
    return record


def last_crash() -> dict | None:
    """The last recorded crash of the local server, or None."""
    try:
        record = json.loads((state_dir() / CRASH_FILE).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def crash_of(server_pid: int, wait_s: float = 3.0) -> dict | None:
    """The crash record of the llama.cpp process `server_pid`, waiting up to `wait_s` for the process
    that watches it to write one; None when it is not dead or no record came."""
    if alive(server_pid):
        return None
    deadline = time.monotonic() + wait_s
    while True:
        record = last_crash()
        if record and record.get("server_pid") == server_pid:
            return record
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.1)


def crash_message(record: dict) -> str:
    """One line: what happened, where the log is, what to do, and the log's last lines."""
    msg = f"the local model server {record.get('what', 'died')} — see {record.get('log')}; {record.get('hint', '')}".rstrip("; ")
    tail = record.get("log_tail") or []
    return msg + (f" — last log lines: {' | '.join(tail)}" if tail else "")
