"""Test environments: a virtualenv of the Python version a task names, built once and cached
by a hash of its spec, made visible inside the sandbox (local or docker).

    {"environment": {"python": "3.9", "requirements": ["mpmath==1.3.0"], "install": "..."}}

A task file is untrusted (users download public dumps), so nothing it says runs on the host:

- the interpreter: the newest matching one selfcoder finds itself — pyenv's
  (`$PYENV_ROOT/versions/3.9.*`, default /root/.pyenv), `/usr/bin/python3.9`,
  `/usr/local/bin/python3.9` — by version number only. An `interpreter` path in the task is
  accepted only when it is one of those (the same file); anything else is refused. A version
  found nowhere is an `EnvironmentProblem` naming it (those instances are errors);
- the requirements: plain PEP 508 specifiers only (`name[extras] op version ; markers`,
  `check_requirement`): no pip option (`--no-build-isolation`, `-e`, `-r`), no path, no URL, no
  `name @ url` direct reference, no file name;
- the virtualenv: `python -m venv` on the host (the discovered interpreter's own `venv` and
  `ensurepip`: nothing of the task's), then the requirements as wheels only:
  `pip download --only-binary :all:` on the host fetches them from the user's own package index
  (pip.conf, PIP_* variables, proxies and credentials stay on the host; with `:all:` pip reads
  wheel metadata and never runs a package's build backend or setup.py), and
  `pip install --no-index --find-links <those wheels> --only-binary :all:` runs inside a local
  (bubblewrap) sandbox without network, the venv mounted writable at its own path, nothing else
  of the host but /usr and the interpreter. A requirement with no wheel is an error (an sdist
  would need its build backend to run); so is a missing bubblewrap;
- built into `<cache>/<hash>` under a lock and marked complete only at the end, so a crash
  leaves a build that is redone; a failed build keeps its log beside the cache (`<hash>.log`)
  and is reported with its tail;
- in the sandbox: the venv and the interpreter's installation are bind-mounted read-only at
  their host paths (pyenv's live under /root, mode 700: a sandbox uid could not reach them
  there, but a bind mount of the inner directory is readable), the test command runs with the
  venv's `bin` first on PATH, after the optional `install` command (run inside the sandbox, on
  the workspace; the venv is read-only there: install into /tmp and set PYTHONPATH).

The cache is `$SELFCODER_ENV_CACHE`, else `/var/cache/selfcoder/envs` as root (sandbox uids must
be able to traverse it: never under /root), else `~/.cache/selfcoder/envs`.

The docker backend gets the same environment, mounted the same way: the venv and the (copied)
interpreter installation bind-mounted read-only into the container at their host paths, the
venv first on PATH. Why mounting rather than an image per Python version: the base image is
built offline by debootstrap (selfcoder/sandbox/image.py), and Debian ships one Python per
suite (bullseye 3.9, bookworm 3.11, trixie 3.13; 3.6-3.8, 3.10 and 3.12 have no suite we can
reach), each image costs minutes and ~400 MB, while the host already has the interpreters and
the venv built for the local sandbox: one build serves both backends. The container user (the
sandbox uid) reaches them as it does under bubblewrap: the copy lives in the cache (mode 755,
files a+rX), never under /root (0700 in the image as on the host). It relies on the image and
the host sharing a C library and the shared libraries Python links to: `selfcoder-base:bookworm`
is Debian bookworm, like these hosts. A host interpreter under /usr is not mounted (that would
shadow the image's /usr): the image's own must be that Python (bookworm's python3.11 on a
bookworm host); the test command first checks it runs and says so when it does not. On another
host distribution, point `sandbox.image` at an image that has the Python the tasks need (e.g.
built from sandbox/Dockerfile on that distribution), or use the local sandbox. The requirements
are installed in a local sandbox either way: bubblewrap is needed to build an environment with
requirements, also for docker users.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import shlex
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from selfcoder.core.errors import SandboxError
from selfcoder.eval.env_fields import EnvironmentProblem, EnvSpec, check_requirement
from selfcoder.eval.interpreters import (SYSTEM_PYTHON, find_interpreter, interpreter_mounts, make_readable,
                                         readable_interpreter, version_of)
from selfcoder.sandbox.base import Mount

BUILD_TIMEOUT_S = 1800
WHEELS_IN_SANDBOX = "/wheels"  # where the downloaded wheels are mounted (read-only) for the install


@dataclass
class Environment:
    """A built environment: what the sandbox mounts and how the test command is wrapped."""

    venv: Path | None = None
    mounts: list[Mount] = field(default_factory=list)
    install: str | None = None
    lib: Path | None = None  # LD_LIBRARY_PATH for a copied interpreter
    check: str | None = None  # "Python 3.11 (/usr/bin/python3.11)": the sandbox's own must run it
    source: str = ""  # which spec it was built from (official_specs.py), for the instance record

    def wrap(self, test_cmd: str) -> str:
        parts = []
        if self.venv is not None:
            bin_dir = shlex.quote(str(self.venv / "bin"))
            parts.append(f"export VIRTUAL_ENV={shlex.quote(str(self.venv))} PATH={bin_dir}:\"$PATH\"")
        if self.lib is not None:
            parts.append(f"export LD_LIBRARY_PATH={shlex.quote(str(self.lib))}")
        if self.venv is not None and self.check:
            why = shlex.quote(f"the environment's {self.check} does not run in this sandbox's image: "
                              "use an image that has it (sandbox.image) or the local sandbox")
            parts.append(f"{{ {bin_dir}/python -c '' >/dev/null 2>&1 || {{ echo {why}; exit 126; }} ; }}")
        if self.install:
            parts.append(f"{{ {self.install} ; }} >/tmp/selfcoder-install.log 2>&1 || "
                         "{ echo 'environment install command failed:'; tail -50 /tmp/selfcoder-install.log; exit 126; }")
        return "; ".join(parts + [test_cmd]) if parts else test_cmd


def cache_root() -> Path:
    if os.environ.get("SELFCODER_ENV_CACHE"):
        return Path(os.environ["SELFCODER_ENV_CACHE"])
    if os.geteuid() == 0:
        return Path("/var/cache/selfcoder/envs")
    return Path.home() / ".cache" / "selfcoder" / "envs"


def _lib_env(lib: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    if lib is not None:
        env["LD_LIBRARY_PATH"] = str(lib)
    return env


def spec_hash(spec: EnvSpec, interpreter: str, version: tuple[int, ...]) -> str:
    data = {"python": ".".join(map(str, version)), "interpreter": os.path.realpath(interpreter),
            "requirements": list(spec.requirements)}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def _hand_over(path: Path, uid: int, gid: int) -> None:
    """Give the tree `path` to uid:gid without following a link, dropping set-id bits (what a
    sandbox uid wrote must never become a set-uid file of ours)."""
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            _hand_over_one(os.path.join(dirpath, name), uid, gid)
    _hand_over_one(str(path), uid, gid)


def _hand_over_one(path: str, uid: int, gid: int) -> None:
    try:
        os.lchown(path, uid, gid)
        st = os.lstat(path)
        if not stat.S_ISLNK(st.st_mode) and st.st_mode & (stat.S_ISUID | stat.S_ISGID):
            os.chmod(path, stat.S_IMODE(st.st_mode) & ~(stat.S_ISUID | stat.S_ISGID))
    except FileNotFoundError:
        pass


class _BuildFailed(Exception):
    pass


def _host_step(argv: list[str], out, lib: Path | None, log: Callable[[str], None], label: str,
               cwd: Path | None = None) -> None:
    """One build step on the host: the discovered interpreter's own modules (venv, ensurepip,
    pip download of wheels) — never a package's code."""
    log(f"environment {label}: {' '.join(argv[:6])}{' ...' if len(argv) > 6 else ''}")
    out.write(f"$ {shlex.join(argv)}\n")
    out.flush()
    try:
        code = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              timeout=BUILD_TIMEOUT_S, env=_lib_env(lib), cwd=cwd).returncode
    except subprocess.TimeoutExpired:
        code = -1
    if code != 0:
        raise _BuildFailed()


def _install_in_sandbox(venv: Path, wheels: Path, requirements: tuple[str, ...], python: str, lib: Path | None,
                        out, log: Callable[[str], None], label: str) -> None:
    """`pip install` of the downloaded wheels into `venv`, in a local sandbox without network:
    the venv writable at its own path (handed to the sandbox uid meanwhile), the wheels and the
    interpreter read-only, nothing else of the host but what every sandbox shows."""
    from selfcoder.sandbox import Limits, SandboxSpec, open_sandbox, workdirs
    from selfcoder.sandbox.local import bwrap_problem

    problem = bwrap_problem()
    if problem:
        raise EnvironmentProblem(f"installing an environment's requirements needs the local sandbox "
                                 f"(bubblewrap): {problem}")
    argv = [str(venv / "bin" / "python"), "-m", "pip", "install", "--isolated", "--no-index", "--find-links",
            WHEELS_IN_SANDBOX, "--only-binary", ":all:", "--no-cache-dir", "--disable-pip-version-check",
            "--progress-bar", "off", "--", *requirements]
    log(f"environment {label}: pip install (in a sandbox) {' '.join(requirements)[:200]}")
    out.write(f"$ [sandbox] {shlex.join(argv)}\n")
    out.flush()
    uid = workdirs.pick_uid()
    limits = Limits(timeout_s=BUILD_TIMEOUT_S, cpu_s=BUILD_TIMEOUT_S, disk_mb=4096, output_bytes=200_000)
    mounts = [Mount(venv, str(venv), read_only=False), Mount(wheels, WHEELS_IN_SANDBOX),
              *interpreter_mounts(python, lib)]
    if uid is not None:
        _hand_over(venv, uid, uid)
    try:
        with tempfile.TemporaryDirectory(prefix="selfcoder-env-") as empty:
            spec = SandboxSpec(source=Path(empty), limits=limits, mounts=mounts, uid=uid, run_id="env-build",
                               env={"LD_LIBRARY_PATH": str(lib)} if lib else {})
            with open_sandbox(spec, "local") as sb:
                res = sb.run(argv, timeout=BUILD_TIMEOUT_S)
    except SandboxError as e:
        out.write(f"the sandbox failed: {e}\n")
        raise _BuildFailed() from None
    finally:
        if uid is not None:
            _hand_over(venv, os.getuid(), os.getgid())
    out.write(res.output)
    if res.timed_out:
        out.write(f"\n[timed out after {BUILD_TIMEOUT_S} s]\n")
    out.flush()
    if not res.ok:
        raise _BuildFailed()


def build_venv(spec: EnvSpec, *, log: Callable[[str], None] = lambda line: None) -> Path:
    """The cached virtualenv for `spec` (built now if missing)."""
    requirements = tuple(check_requirement(r) for r in spec.requirements)  # every caller, not only task files
    python, version = find_interpreter(spec)
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    python, lib = readable_interpreter(python, root, log)
    root.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        root.chmod(0o755)  # sandbox uids traverse it to reach the venvs
    spec = dataclasses.replace(spec, requirements=requirements)
    digest = spec_hash(spec, python, version)
    target = root / digest
    with open(root / f".{digest}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build per spec, even across processes
        if (target / ".complete").exists():
            return target
        shutil.rmtree(target, ignore_errors=True)
        log_path = root / f"{digest}.log"
        work = root / f".{digest}.build"  # the downloaded wheels, and an empty directory pip runs in
        shutil.rmtree(work, ignore_errors=True)
        try:
            with open(log_path, "w") as out:
                _host_step([python, "-m", "venv", *([] if requirements else ["--without-pip"]), str(target)],
                           out, lib, log, digest)
                if requirements:
                    (work / "cwd").mkdir(parents=True)
                    _host_step([str(target / "bin" / "python"), "-m", "pip", "download", "--only-binary", ":all:",
                                "--dest", str(work / "wheels"), "--disable-pip-version-check", "--progress-bar", "off",
                                "--", *requirements], out, lib, log, digest, cwd=work / "cwd")
                    make_readable(work)
                    _install_in_sandbox(target, work / "wheels", requirements, python, lib, out, log, digest)
        except _BuildFailed:
            shutil.rmtree(target, ignore_errors=True)
            tail = log_path.read_text(errors="replace")[-800:].strip().splitlines()[-3:]
            raise EnvironmentProblem(f"building the Python {spec.python} environment failed "
                                     f"(log: {log_path}): {' | '.join(tail)}") from None
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise
        finally:
            shutil.rmtree(work, ignore_errors=True)
        (target / "selfcoder-env.json").write_text(json.dumps(
            {"python": python, "version": list(version), "requirements": list(requirements),
             "lib": str(lib) if lib else None}))
        (target / ".complete").write_text("")
        make_readable(target)
    return target


def prepare(spec: EnvSpec | None, backend: str, *, log: Callable[[str], None] = lambda line: None) -> Environment:
    """The environment for `spec` on `backend` (None: the sandbox's own python3)."""
    if spec is None or (spec.python is None and not spec.requirements):
        return Environment(install=spec.install if spec else None)
    if backend not in ("local", "docker"):
        raise EnvironmentProblem(f"a Python {spec.python} environment needs the local or docker sandbox "
                                 f"(for {backend}, use an image that has it: sandbox.image)")
    if spec.python is None:  # requirements for the sandbox's own python3
        found = version_of(SYSTEM_PYTHON)
        if found is None:
            raise EnvironmentProblem(f"an environment with requirements needs {SYSTEM_PYTHON}, or a `python` version")
        spec = dataclasses.replace(spec, python="%d.%d" % found[:2], interpreter=SYSTEM_PYTHON)
    venv = build_venv(spec, log=log)
    info = json.loads((venv / "selfcoder-env.json").read_text())
    lib = Path(info["lib"]) if info.get("lib") else None
    mounts = [Mount(venv, str(venv)), *interpreter_mounts(info["python"], lib)]
    check = None
    if len(mounts) == 1 and backend == "docker":  # the image's /usr, not the host's: it must have this interpreter
        check = f"Python {'.'.join(map(str, info['version']))} ({info['python']})"
    return Environment(venv=venv, mounts=mounts, install=spec.install, lib=lib, check=check)
