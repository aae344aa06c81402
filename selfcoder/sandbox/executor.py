#!/usr/bin/env python3
"""The in-sandbox executor: one long-lived process that runs every command of a sandbox.

Why: starting a new bubblewrap (or `docker exec`) per command costs 2-30x a plain fork;
a process that stays inside and forks each command costs about as much as a local shell.

This file runs INSIDE the sandbox under whatever Python the sandbox has, so it uses the
standard library only and stays compatible with Python >= 3.8. Do not import selfcoder here.
Its one companion, executor_limits.py (rlimits, the output kept), is mounted beside it.
The host side of the protocol is `selfcoder.sandbox.client.ExecutorClient`.

Protocol: JSON, one object per line; requests on stdin, responses on stdout.
  startup                       -> {"type": "ready", "version": 1, "pid": int}
  {"id", "op": "run", "cmd": str|[str], "cwd": str, "env": {k: str|null}, "timeout": float,
   "limits": {"memory_mb", "pids", "cpu_s", "file_size_mb", "output_bytes"}, "stream": bool}
                                -> {"id", "type": "output", "data": str}*   (only when stream)
                                -> {"id", "type": "exit", "exit_code", "output", "truncated_bytes",
                                    "duration_s", "timed_out"}
  {"id", "op": "read", "path"}  -> {"id", "type": "file", "data_b64"}
  {"id", "op": "write", "path", "data_b64", "mode"?} -> {"id", "type": "ok"}
  {"id", "op": "ping"}          -> {"id", "type": "pong"}
  any failure of a request      -> {"id", "type": "error", "message", "errno": name|null}
`env` holds overrides on top of the executor's own environment (null removes a variable).
A shell string runs with `bash -c` (or `sh -c`); exit codes of signalled commands are 128+N.
EOF on stdin: kill every process of the sandbox and exit.

Flags: --workdir DIR (base of relative paths, default cwd); --limits JSON (the sandbox's limits:
the executor applies them to itself as hard limits, so commands inherit them without any Python
code between fork and exec, which halves the cost of a command); --own-pid-namespace: the executor
is alone in its pid namespace, so on timeout it may `kill(-1, SIGKILL)` everything else
(that removes escapees that called setsid). Without the flag only the command's group dies.
--in-fd N --out-fd M: read requests from fd N and write replies to fd M instead of stdin/stdout
(the local backend passes the protocol pipes that way, see below).

Who can reach the protocol: commands run under the executor's uid, so without care they could
ptrace it or take its reply pipe with pidfd_getfd(2) and forge an "exit 0" line. The executor
marks itself non-dumpable (PR_SET_DUMPABLE 0) before anything else: ptrace attach, pidfd_getfd
and /proc/<pid>/fd|mem of a non-dumpable process need CAP_SYS_PTRACE, which no command has.
(Commands are dumpable again after their execve, so debuggers inside still work on them.)
If that cannot be done the executor refuses to start. Under bubblewrap, bwrap's own init
(pid 1 inside) stays dumpable and keeps its stdin/stdout/stderr, so the pipes must not be its
stdio: local.py gives bwrap /dev/null and passes the pipes as extra fds, which bwrap's init
closes and only the executor (its child) keeps. In a container the executor is pid 1 itself.
"""

import base64
import codecs
import errno
import json
import os
import re
import shutil
import select
import signal
import subprocess
import sys
import time

VERSION = 1
CHUNK = 1 << 16
EXIT_GRACE_S = 0.1  # after the command exits, how long background holders of its pipe may still write
KILL_DRAIN_S = 2.0  # after a kill, how long to wait for the pipe to close
SHELL = "/bin/bash" if os.path.exists("/bin/bash") else "/bin/sh"
# As GNU make does: a command with no shell syntax runs without a shell, which saves bash's
# start-up (~0.4 ms over sh, ~1 ms in all) per command. Names whose program differs from the
# builtin, and anything not on PATH, still go through the shell.
PLAIN_WORDS = re.compile(r"[\w@%+:,./-]+( +[\w@%+=:,./-]+)*")
SHELL_ONLY = {"time", "exec", "command", "type", "hash", "echo", "printf", "pwd", "test", "kill"}
OWN_PID_NS = False
WORKDIR = os.getcwd()
BASE_LIMITS = {}  # applied to the executor itself at start, so commands inherit them for free
PR_SET_DUMPABLE = 4


def load_sibling(name):
    """The module `name` beside this file (the backends mount this directory read-only), loaded
    by its path: nothing is added to sys.path, so nothing else can stand in for it."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                                     name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_limits = load_sibling("executor_limits")
Capture, limiter, RLIMIT_KEYS = _limits.Capture, _limits.limiter, _limits.RLIMIT_KEYS


def make_undumpable():
    """prctl(PR_SET_DUMPABLE, 0): commands of the same uid can no longer ptrace us or take our fds."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE, 0) failed")


def take_fds(args):
    """--in-fd/--out-fd: make those fds our stdin/stdout (the protocol) and close the originals."""
    for flag, target in (("--in-fd", 0), ("--out-fd", 1)):
        if flag in args:
            fd = int(args[args.index(flag) + 1])
            os.dup2(fd, target)
            os.close(fd)


def send(obj):
    data = (json.dumps(obj) + "\n").encode()
    view = memoryview(data)
    while view:
        n = os.write(1, view)
        view = view[n:]


class StdinLines:
    """Line reader over fd 0 that can be polled with select while a command runs."""

    def __init__(self):
        self.buf = bytearray()
        self.eof = False

    def fill(self):
        data = os.read(0, CHUNK)
        if data:
            self.buf += data
        else:
            self.eof = True

    def pop_line(self):
        i = self.buf.find(b"\n")
        if i < 0:
            return None
        line = bytes(self.buf[: i + 1])
        del self.buf[: i + 1]
        return line

    def readline(self):
        while True:
            line = self.pop_line()
            if line is not None or self.eof:
                return line
            self.fill()


def preexec_for(limits):
    """None (fast: no Python code between fork and exec) when the command's limits are the ones the
    executor already runs under; otherwise a function that applies them in the child."""
    wanted = dict(BASE_LIMITS)
    wanted.update((k, limits[k]) for k in RLIMIT_KEYS if limits.get(k))
    return None if wanted == BASE_LIMITS else limiter(wanted)


def kill_everything_else():
    """SIGKILL every process we may signal except ourselves (and pid 1, which the kernel spares)."""
    if OWN_PID_NS:
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass


def reap():
    """Collect exited children (orphans are re-parented to us when we are pid 1). Only call it
    when the command's own process has been waited for: it would steal its exit status."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def open_pidfd(pid):
    try:
        return os.pidfd_open(pid)  # Python >= 3.9, Linux >= 5.3
    except (AttributeError, OSError):
        return None


def resolve(path):
    return path if os.path.isabs(path) else os.path.join(WORKDIR, path)


def shell_argv(cmd, env):
    words = cmd.split()
    if PLAIN_WORDS.fullmatch(cmd.strip()) and words[0] not in SHELL_ONLY:
        program = shutil.which(words[0], path=env.get("PATH"))
        if program:
            return [program] + words[1:]
    return [SHELL, "-c", cmd]


def run(req, stdin):
    rid = req.get("id")
    limits = req.get("limits") or {}
    cmd = req.get("cmd")
    env = dict(os.environ)
    for key, value in (req.get("env") or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(value)
    argv = shell_argv(cmd, env) if isinstance(cmd, str) else [str(a) for a in cmd]
    timeout = req.get("timeout")
    stream = bool(req.get("stream"))
    capture = Capture(limits.get("output_bytes") or 100000)
    start = time.monotonic()

    def finish(code, timed_out=False):
        send({"id": rid, "type": "exit", "exit_code": code, "output": capture.text(),
              "truncated_bytes": capture.cut(), "duration_s": round(time.monotonic() - start, 6),
              "timed_out": timed_out})

    for attempt in range(20):
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, cwd=resolve(req.get("cwd") or WORKDIR), env=env,
                                    start_new_session=True, preexec_fn=preexec_for(limits), close_fds=True)
            break
        except OSError as e:
            if e.errno == errno.EAGAIN and OWN_PID_NS:
                # The process limit is used up by leftovers (a fork bomb sent to the background):
                # clear them, or the sandbox could never run anything again.
                if attempt == 0:
                    capture.add(b"[process limit reached: every other process in the sandbox was killed]\n")
                kill_everything_else()
                time.sleep(0.05)
                reap()
                continue
            capture.add(("%s: %s\n" % (e.strerror or e, e.filename or argv[0])).encode())
            return finish(126 if e.errno in (errno.EACCES, errno.EPERM, errno.EAGAIN) else 127)
    else:
        return finish(126)

    fd = proc.stdout.fileno()
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    streamed = 0
    stream_cap = int(limits.get("output_bytes") or 100000)
    deadline = start + float(timeout) if timeout else None
    stop_reading_at = None  # set once the command has exited or was killed
    timed_out = False
    pipe_open = True
    exit_fd = open_pidfd(proc.pid)  # readable once the command exits: no polling, no added latency
    while True:
        now = time.monotonic()
        exited = proc.poll() is not None
        if exited and not pipe_open:
            break
        if exited and stop_reading_at is None:
            stop_reading_at = now + EXIT_GRACE_S
        if stop_reading_at is not None and now >= stop_reading_at:
            break
        if deadline is not None and now >= deadline and not timed_out:
            timed_out = True
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            kill_everything_else()
            stop_reading_at = now + KILL_DRAIN_S
            continue
        waits = [0.2] + [t - now for t in (deadline, stop_reading_at) if t is not None and t > now]
        wait = max(min(waits), 0.0)
        if not pipe_open and exit_fd is None:  # no pidfd (old kernel/Python): wait for the exit directly
            try:
                proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                pass
            wait = 0.0
        rlist = ([fd] if pipe_open else []) + ([] if stdin.eof else [0])
        if exit_fd is not None and not exited:
            rlist.append(exit_fd)
        ready, _, _ = select.select(rlist, [], [], wait)
        if 0 in ready:
            stdin.fill()
            if stdin.eof:
                shutdown(proc)
        if fd in ready:
            data = os.read(fd, CHUNK)
            if not data:
                pipe_open = False
                continue
            capture.add(data)
            if stream and streamed < stream_cap:
                piece = data[: stream_cap - streamed]
                streamed += len(piece)
                text = decoder.decode(piece)
                if streamed >= stream_cap:
                    text += decoder.decode(b"", final=True) + "\n[... output continues, not streamed ...]\n"
                if text:
                    send({"id": rid, "type": "output", "data": text})
    proc.stdout.close()
    if exit_fd is not None:
        os.close(exit_fd)
    try:
        proc.wait(timeout=KILL_DRAIN_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if stream and streamed < stream_cap:
        rest = decoder.decode(b"", final=True)
        if rest:
            send({"id": rid, "type": "output", "data": rest})
    reap()
    code = proc.returncode
    finish(128 - code if code < 0 else code, timed_out)


def read_file(req):
    limit = req.get("max_bytes")
    with open(resolve(req["path"]), "rb") as f:
        data = f.read() if limit is None else f.read(int(limit) + 1)
    if limit is not None and len(data) > int(limit):  # the host refuses longer lines anyway
        raise OSError(errno.EFBIG, "file over %d bytes, too large to read through the sandbox" % int(limit),
                      req["path"])
    return {"type": "file", "data_b64": base64.b64encode(data).decode("ascii")}


def write_file(req):
    path = resolve(req["path"])
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    data = base64.b64decode(req.get("data_b64") or "")
    with open(path, "wb") as f:
        f.write(data)
    if req.get("mode") is not None:
        os.chmod(path, int(req["mode"]))
    return {"type": "ok"}


def shutdown(proc=None):
    if proc is not None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
    kill_everything_else()
    os._exit(0)


def handle(line, stdin):
    try:
        req = json.loads(line)
    except ValueError as e:
        send({"id": None, "type": "error", "message": "bad request: %s" % e, "errno": None})
        return
    rid = req.get("id")
    op = req.get("op")
    try:
        if op == "run":
            run(req, stdin)
            return
        if op == "read":
            reply = read_file(req)
        elif op == "write":
            reply = write_file(req)
        elif op == "ping":
            reply = {"type": "pong"}
        else:
            raise ValueError("unknown op %r" % (op,))
    except OSError as e:
        reply = {"type": "error", "message": "%s: %s" % (e.strerror or e, e.filename or ""),
                 "errno": errno.errorcode.get(e.errno or 0)}
    except Exception as e:  # a bad request must never kill the executor
        reply = {"type": "error", "message": "%s: %s" % (type(e).__name__, e), "errno": None}
    reply["id"] = rid
    send(reply)


def main(argv):
    global OWN_PID_NS, WORKDIR
    args = list(argv)
    try:
        make_undumpable()
    except Exception as e:  # no ctypes, no prctl: never serve a protocol commands could hijack
        sys.stderr.write("selfcoder executor: cannot protect itself from the commands it runs: %s\n" % (e,))
        sys.exit(70)
    take_fds(args)
    if "--own-pid-namespace" in args:
        args.remove("--own-pid-namespace")
        OWN_PID_NS = os.getpid() < 64  # never kill(-1) from a process that is clearly not alone
    if "--workdir" in args:
        WORKDIR = args[args.index("--workdir") + 1]
    if "--limits" in args:
        given = json.loads(args[args.index("--limits") + 1])
        BASE_LIMITS.update((k, given[k]) for k in RLIMIT_KEYS if given.get(k))
        limiter(BASE_LIMITS)()
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    stdin = StdinLines()
    send({"type": "ready", "version": VERSION, "pid": os.getpid()})
    while True:
        line = stdin.readline()
        if line is None:
            shutdown()
        if line.strip():
            handle(line, stdin)


if __name__ == "__main__":
    main(sys.argv[1:])
