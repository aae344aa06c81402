"""The `local` backend: one bubblewrap sandbox per `Sandbox`, one executor process inside it.

Isolation: new user, pid, net, ipc, uts and cgroup namespaces (no network at all, not even
loopback of the host); nested user namespaces disabled; the host's /usr (and the /bin, /lib
links) and a few /etc files read-only; a synthetic /etc/passwd; private /proc, /dev and /tmp;
the workspace read-write at /workspace; `spec.mounts` where asked; the root read-only.
Environment: an allow-list plus `spec.env` (`--clearenv`): no host variable, no host HOME.
When we are root the sandbox runs under its own uid (UID_BASE + random): RLIMIT_NPROC is not
enforced for uid 0, and a private uid lets cleanup find every process of the sandbox.
Limits: rlimits applied by the executor (address space, processes, CPU, file size, no cores);
on top, where the host allows it, a cgroup for the whole sandbox (memory without swap, tasks;
see cgroups.py); /tmp is a tmpfs of `disk_mb` inside the sandbox (it lasts as long as the
executor: after a `kill -9 -1` the workspace is kept, /tmp is fresh, as in a container), the
workspace a tmpfs of `disk_mb` on the host (executor_sandbox.py).

Commands go to the executor over two pipes (see executor.py); no bwrap per command. The pipes
are NOT bwrap's stdin/stdout: bwrap's init (pid 1 in the sandbox) keeps its stdio open for its
whole life and stays ptraceable by the commands (same uid), so a command could take the reply
pipe from it and forge results. bwrap gets /dev/null and a stderr pipe (diagnostics, read only
when the start fails); the protocol pipes go in as extra fds, which bwrap's init closes and
only the executor, which makes itself non-dumpable, keeps. (`--as-pid-1` would also do, but
the executor is then the one process the kernel protects from `kill -9 -1`, and a sandbox
whose every process was killed would no longer start afresh.)
If the executor dies (a command ran `kill -9 -1`), the next `run()` starts a new one on the
same workspace. `close()` kills the bubblewrap tree (and every process of the sandbox uid),
then removes the sandbox directory; it is idempotent and may be called from another thread.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import time
from pathlib import Path

from selfcoder.core.errors import SandboxError
from selfcoder.sandbox import workdirs
from selfcoder.sandbox.base import WORKDIR
from selfcoder.sandbox.cgroups import Cgroup, cgroup_problem
from selfcoder.sandbox.executor_sandbox import BASE_ENV, HOME, ExecutorSandbox
from selfcoder.sandbox.client import EXECUTOR_DIR, ExecutorClient, ExecutorGone, executor_argv, line_cap

BWRAP = "bwrap"
PYTHON = "/usr/bin/python3"
ROOT_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
ETC_ENTRIES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "ssl", "ca-certificates",
               "ca-certificates.conf", "localtime", "timezone", "nsswitch.conf", "os-release", "debian_version",
               "mime.types", "protocols", "services", "host.conf", "terminfo", "inputrc", "magic", "mailcap")
START_TIMEOUT_S = 30.0
STDERR_KEEP = 1 << 16
MARKER_VAR = "SELFCODER_SANDBOX"  # in bwrap's argv, so gc can recognise our processes ...
OWNER_VAR = "SELFCODER_OWNER"  # ... and tell whether their owner ("<pid>:<start time>") is alive


def bwrap_problem() -> str | None:
    """None if bubblewrap can run a sandbox here, else what is wrong and how to fix it."""
    path = shutil.which(BWRAP)
    if path is None:
        return "bubblewrap is not installed (apt-get install -y bubblewrap)"
    if not os.access(PYTHON, os.X_OK):
        return f"{PYTHON} is missing; the sandbox runs its executor with it (apt-get install -y python3)"
    uid = workdirs.pick_uid()
    as_user = {"user": uid, "group": uid, "extra_groups": []} if uid is not None else {}
    argv = [path, "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
            "--ro-bind", "/usr", "/usr", *_root_links(), "--proc", "/proc", "--dev", "/dev", "/usr/bin/true"]
    try:
        res = subprocess.run(argv, capture_output=True, text=True, timeout=30, **as_user)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"bubblewrap does not start: {e}"
    if res.returncode != 0:
        why = (res.stderr.strip().splitlines() or ["exit code %d" % res.returncode])[-1]
        return (f"bubblewrap cannot create namespaces: {why} (unprivileged user namespaces must be "
                "enabled: sysctl kernel.unprivileged_userns_clone=1 / user.max_user_namespaces>0)")
    return None


def limits_report() -> dict[str, str]:
    """How a local sandbox's limits are enforced on this machine (for `selfcoder sandbox check`)."""
    why = cgroup_problem()
    memory = ("a cgroup for the whole sandbox (memory, processes)" if why is None else
              f"per-process rlimits only ({why})")
    disk = ("workspace and /tmp: size-limited tmpfs" if os.geteuid() == 0 else
            "/tmp: size-limited tmpfs; workspace: not bounded (mounting its tmpfs needs root)")
    return {"memory/processes": memory, "disk": disk}


def _child_setup(cgroup: Cgroup, uid: int | None):
    """Between fork and exec, as root: enter the sandbox's cgroup, then become the sandbox uid
    (Popen's own `user=` would switch before any preexec_fn could still write to the cgroup)."""

    def setup() -> None:
        cgroup.enter()
        if uid is not None:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)

    return setup


def _root_links() -> list[str]:
    args: list[str] = []
    for name in ROOT_LINKS:
        host = Path("/") / name
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), f"/{name}"]
        elif host.is_dir():
            args += ["--ro-bind", str(host), f"/{name}"]
    return args


class LocalSandbox(ExecutorSandbox):
    backend = "local"

    def _init_backend(self) -> None:
        self._proc: subprocess.Popen | None = None
        self._cgroup: Cgroup | None = None
        self.cgroup_note: str | None = None  # why there is no cgroup, if there is none
        self._stderr_tail = b""

    # -- setup -----------------------------------------------------------------------------

    def _prepare_files(self) -> None:
        etc = self._write_identity()
        (etc / "hosts").write_text("127.0.0.1\tlocalhost sandbox\n::1\tlocalhost sandbox\n")
        (etc / "hostname").write_text("sandbox\n")
        self._cgroup, why = Cgroup.create(f"selfcoder-{self.id}", self.limits.memory_mb, self.limits.pids)
        self.cgroup_note = why or None
        if self._cgroup is not None:
            workdirs.write_owner(self.dir, cgroups=[str(p) for p in self._cgroup.paths])

    def _argv(self, fds: tuple[int, int]) -> list[str]:
        a = [BWRAP, "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session",
             "--hostname", "sandbox", "--ro-bind", "/usr", "/usr", *_root_links()]
        for name in ETC_ENTRIES:
            if os.path.lexists(f"/etc/{name}"):
                a += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
        for entry in sorted(os.listdir("/etc")):
            if entry.startswith("python3"):  # Debian's sitecustomize lives there
                a += ["--ro-bind", f"/etc/{entry}", f"/etc/{entry}"]
        for name in ("passwd", "group", "hosts", "hostname"):
            a += ["--ro-bind", str(self.dir / "etc" / name), f"/etc/{name}"]
        size = ["--size", str(self.limits.disk_mb << 20)] if self.limits.disk_mb > 0 else []
        a += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", *size, "--tmpfs", "/tmp", "--dir", HOME,
              "--bind", str(self.workspace), WORKDIR, "--ro-bind", str(self.dir / "executor"), EXECUTOR_DIR]
        for m in self.spec.mounts:
            a += ["--ro-bind" if m.read_only else "--bind", str(Path(m.host).absolute()), m.target]
        a += ["--remount-ro", "/", "--clearenv"]
        env = dict(BASE_ENV, **{k: str(v) for k, v in self.spec.env.items()})
        env[MARKER_VAR] = self.id
        env[OWNER_VAR] = f"{os.getpid()}:{workdirs.process_start_time(os.getpid())}"
        for key, value in env.items():
            a += ["--setenv", key, value]
        a += ["--chdir", WORKDIR, "--"]
        return a + executor_argv(PYTHON, self.limits, WORKDIR, own_pid_namespace=True, fds=fds)

    def _start(self) -> None:
        if self._cgroup is not None and not all(p.is_dir() for p in self._cgroup.paths):
            # swept by `sandbox gc` while empty (every process was killed, no command since): anew
            self._cgroup.remove()
            self._cgroup, why = Cgroup.create(f"selfcoder-{self.id}", self.limits.memory_mb, self.limits.pids)
            self.cgroup_note = why or None
        if self._cgroup is not None:
            how = {"preexec_fn": _child_setup(self._cgroup, self.uid)}
        elif self.uid is not None:
            how = {"user": self.uid, "group": self.uid, "extra_groups": []}
        else:
            how = {}
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        try:
            # bwrap itself becomes pid 1 inside, and /proc/1/environ is readable there: give it no host env.
            self._proc = subprocess.Popen(self._argv((req_r, resp_w)), stdin=subprocess.DEVNULL,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, pass_fds=(req_r, resp_w),
                                          env={"PATH": BASE_ENV["PATH"]}, start_new_session=True, close_fds=True,
                                          **how)
        except FileNotFoundError:
            os.close(req_w)
            os.close(resp_r)
            raise SandboxError("bubblewrap is not installed", hint="apt-get install -y bubblewrap") from None
        finally:
            os.close(req_r)  # the child's ends: only bwrap (and the executor) keep them
            os.close(resp_w)
        workdirs.write_owner(self.dir, bwrap_pid=self._proc.pid, bwrap_start=workdirs.process_start_time(self._proc.pid))
        self._aborted = False
        self._pipes = (os.fdopen(resp_r, "rb"), os.fdopen(req_w, "wb"))
        self._client = ExecutorClient(*self._pipes, self._abort, max_line=line_cap(self.limits))
        try:
            self._client.wait_ready(START_TIMEOUT_S)
        except ExecutorGone:
            raise SandboxError(f"bubblewrap failed to start the sandbox: {self._log_tail()}") from None

    def _read_stderr(self, wait_s: float = 2.0) -> None:
        """Keep the tail of what bwrap/the executor wrote to stderr (they died; read until EOF)."""
        pipe = self._proc.stderr if self._proc is not None else None
        if pipe is None or pipe.closed:
            return
        deadline = time.monotonic() + wait_s
        fd = pipe.fileno()
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], max(deadline - time.monotonic(), 0))
            if not ready:
                break
            data = os.read(fd, 1 << 16)
            if not data:
                break
            self._stderr_tail = (self._stderr_tail + data)[-STDERR_KEEP:]

    def _log_tail(self) -> str:
        self._read_stderr()
        lines = self._stderr_tail.decode(errors="replace").strip().splitlines()
        why = lines[-1] if lines else "no message"
        if "Permission denied" in why and self.uid is not None:
            why += (f" (the sandbox runs as uid {self.uid}: every mount source and its parent directories "
                    "must be readable/traversable by other users, e.g. not under /root)")
        return why

    def _abort(self) -> None:
        """Watchdog: the executor missed its deadline; kill the sandbox process tree."""
        self._aborted = True
        self._kill_processes()

    def _kill_processes(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
        if proc is not None:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        if self._cgroup is not None:
            self._cgroup.kill()
        if self.uid is not None:
            workdirs.kill_uid(self.uid)

    def _client_or_restart(self) -> ExecutorClient:
        with self._lock:
            if self._closed:
                raise SandboxError(f"sandbox {self.id} is closed")
            if self._client is None or self._proc is None or self._proc.poll() is not None:
                self._kill_processes()
                self._close_pipes()
                self._start()
            assert self._client is not None
            return self._client

    def _close_pipes(self) -> None:
        pipes = list(getattr(self, "_pipes", ())) + ([self._proc.stderr] if self._proc is not None else [])
        self._pipes = ()
        for pipe in pipes:
            try:
                if pipe:
                    pipe.close()
            except OSError:
                pass

    # -- the Sandbox interface -------------------------------------------------------------

    def _executor_gone(self) -> None:
        self._client = None

    def leftovers(self) -> list[str]:
        found = [f"directory {self.dir}"] if self.dir.exists() else []
        if self._proc is not None and self._proc.poll() is None:
            found.append(f"process {self._proc.pid} (bwrap)")
        if self.uid is not None:
            found += [f"process {pid} (uid {self.uid})" for pid in workdirs.pids_of_uid(self.uid)]
        if self._cgroup is not None and self._cgroup.exists():
            found += [f"cgroup {p}" for p in self._cgroup.paths if p.exists()]
        found += [f"mount {m}" for m in workdirs.mounts_under(self.dir)]
        return found

    def _teardown(self) -> None:
        self._kill_processes()
        self._close_pipes()
        if self._cgroup is not None:
            self._cgroup.remove()
        workdirs.remove_tree(self.dir)
