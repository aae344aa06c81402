"""The `local` backend: one bubblewrap sandbox per `Sandbox`, one executor process inside it.

Isolation: new user, pid, net, ipc, uts and cgroup namespaces (no network at all, not even
loopback of the host); nested user namespaces disabled; the host's /usr (and the /bin, /lib
links) and a few /etc files read-only; a synthetic /etc/passwd; private /proc, /dev and /tmp;
the workspace read-write at /workspace; `spec.mounts` where asked; the root read-only.
Environment: an allow-list plus `spec.env` (`--clearenv`): no host variable, no host HOME.
When we are root the sandbox runs under its own uid (UID_BASE + random): RLIMIT_NPROC is not
enforced for uid 0, and a private uid lets cleanup find every process of the sandbox.
Limits: rlimits applied by the executor (address space, processes, CPU, file size, no cores).

Commands go to the executor over its stdin/stdout (see executor.py); no bwrap per command.
If the executor dies (a command ran `kill -9 -1`), the next `run()` starts a new one on the
same workspace. `close()` kills the bubblewrap tree (and every process of the sandbox uid),
then removes the sandbox directory; it is idempotent and may be called from another thread.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

from selfcoder.errors import SandboxError
from selfcoder.sandbox import workdirs
from selfcoder.sandbox.base import WORKDIR
from selfcoder.sandbox.executor_sandbox import BASE_ENV, ExecutorSandbox
from selfcoder.sandbox.client import EXECUTOR_PATH, ExecutorClient, ExecutorGone, executor_argv

BWRAP = "bwrap"
PYTHON = "/usr/bin/python3"
ROOT_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
ETC_ENTRIES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "ssl", "ca-certificates",
               "ca-certificates.conf", "localtime", "timezone", "nsswitch.conf", "os-release", "debian_version",
               "mime.types", "protocols", "services", "host.conf", "terminfo", "inputrc", "magic", "mailcap")
START_TIMEOUT_S = 30.0
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

    # -- setup -----------------------------------------------------------------------------

    def _prepare_files(self) -> None:
        etc = self._write_identity()
        (etc / "hosts").write_text("127.0.0.1\tlocalhost sandbox\n::1\tlocalhost sandbox\n")
        (etc / "hostname").write_text("sandbox\n")
        tmp = self.dir / "tmp"
        (tmp / "home").mkdir(parents=True)
        os.chmod(tmp, 0o1777)
        if self.uid is not None:
            os.chown(tmp / "home", self.uid, self.uid)

    def _argv(self) -> list[str]:
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
        a += ["--proc", "/proc", "--dev", "/dev", "--bind", str(self.dir / "tmp"), "/tmp",
              "--bind", str(self.workspace), WORKDIR, "--ro-bind", str(self.dir / "executor.py"), EXECUTOR_PATH]
        for m in self.spec.mounts:
            a += ["--ro-bind" if m.read_only else "--bind", str(Path(m.host).absolute()), m.target]
        a += ["--remount-ro", "/", "--clearenv"]
        env = dict(BASE_ENV, **{k: str(v) for k, v in self.spec.env.items()})
        env[MARKER_VAR] = self.id
        env[OWNER_VAR] = f"{os.getpid()}:{workdirs.process_start_time(os.getpid())}"
        for key, value in env.items():
            a += ["--setenv", key, value]
        a += ["--chdir", WORKDIR, "--"]
        return a + executor_argv(PYTHON, self.limits, WORKDIR, own_pid_namespace=True)

    def _start(self) -> None:
        as_user = {"user": self.uid, "group": self.uid, "extra_groups": []} if self.uid is not None else {}
        log = open(self.dir / "bwrap.log", "ab")
        try:
            # bwrap itself becomes pid 1 inside, and /proc/1/environ is readable there: give it no host env.
            self._proc = subprocess.Popen(self._argv(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                          env={"PATH": BASE_ENV["PATH"]}, start_new_session=True, close_fds=True,
                                          **as_user)
        except FileNotFoundError:
            raise SandboxError("bubblewrap is not installed", hint="apt-get install -y bubblewrap") from None
        finally:
            log.close()
        workdirs.write_owner(self.dir, bwrap_pid=self._proc.pid, bwrap_start=workdirs.process_start_time(self._proc.pid))
        self._aborted = False
        self._client = ExecutorClient(self._proc.stdout, self._proc.stdin, self._abort)
        try:
            self._client.wait_ready(START_TIMEOUT_S)
        except ExecutorGone:
            raise SandboxError(f"bubblewrap failed to start the sandbox: {self._log_tail()}") from None

    def _log_tail(self) -> str:
        try:
            lines = (self.dir / "bwrap.log").read_text(errors="replace").strip().splitlines()
        except OSError:
            lines = []
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
        if self._proc is not None:
            for pipe in (self._proc.stdin, self._proc.stdout):
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
        return found

    def _teardown(self) -> None:
        self._kill_processes()
        self._close_pipes()
        workdirs.remove_tree(self.dir)
