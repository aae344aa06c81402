"""Test environments: a virtualenv of the Python version a task names, built once and cached
by a hash of its spec, made visible inside the sandbox (local or docker).

    {"environment": {"python": "3.9", "requirements": ["mpmath==1.3.0"], "install": "...",
                     "interpreter": "/opt/python3.9/bin/python3"}}

- the interpreter: `interpreter` when given, else the newest matching one of pyenv
  (`$PYENV_ROOT/versions/3.9.*`, default /root/.pyenv), `/usr/bin/python3.9`, `/usr/local/bin/...`;
  a version found nowhere is an `EnvironmentProblem` naming it (those instances are errors);
- the virtualenv: `python -m venv` + `pip install` of the requirements on the host (the
  package index is reachable there, not in the sandbox), into `<cache>/<hash>`, built under
  a lock and marked complete only at the end, so a crash leaves a build that is redone;
  a failed build keeps its log beside the cache (`<hash>.log`) and is reported with its tail;
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
built from sandbox/Dockerfile on that distribution), or use the local sandbox.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from selfcoder.errors import SelfcoderError
from selfcoder.sandbox.base import Mount

BUILD_TIMEOUT_S = 1800


class EnvironmentProblem(SelfcoderError):
    """The environment cannot be had: missing interpreter, failed build. An error for the
    instances that need it, never a crash of the evaluation."""


@dataclass(frozen=True)
class EnvSpec:
    python: str | None = None  # "3.9" or "3.9.18"
    requirements: tuple[str, ...] = ()
    install: str | None = None  # run in the sandbox before the tests
    interpreter: str | None = None  # a host interpreter the user names

    @classmethod
    def from_task_field(cls, value) -> "EnvSpec | None":
        if not value:
            return None
        if isinstance(value, str):
            value = {"python": value}
        if not isinstance(value, dict):
            raise EnvironmentProblem(f"environment must be an object, not {type(value).__name__}")
        reqs = value.get("requirements") or ()
        if isinstance(reqs, str):
            reqs = reqs.split()
        return cls(python=str(value["python"]) if value.get("python") else None, requirements=tuple(map(str, reqs)),
                   install=value.get("install") or None, interpreter=value.get("interpreter") or None)


@dataclass
class Environment:
    """A built environment: what the sandbox mounts and how the test command is wrapped."""

    venv: Path | None = None
    mounts: list[Mount] = field(default_factory=list)
    install: str | None = None
    lib: Path | None = None  # LD_LIBRARY_PATH for a copied interpreter
    check: str | None = None  # "Python 3.11 (/usr/bin/python3.11)": the sandbox's own must run it

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


def _version_of(python: str) -> tuple[int, ...] | None:
    try:
        out = subprocess.run([python, "-c", "import sys; print('.'.join(map(str, sys.version_info[:3])))"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return tuple(int(x) for x in out.stdout.strip().split("."))


def _matches(found: tuple[int, ...], wanted: str) -> bool:
    want = tuple(int(x) for x in wanted.split("."))
    return found[: len(want)] == want


def candidates(version: str) -> list[str]:
    """Host interpreters that may be `version`, best first (pyenv newest patch first)."""
    major_minor = ".".join(version.split(".")[:2])
    pyenv = Path(os.environ.get("PYENV_ROOT", "/root/.pyenv")) / "versions"
    found: list[str] = []
    if pyenv.is_dir():
        def key(p: Path):
            return tuple(int(x) for x in re.findall(r"\d+", p.name))
        for d in sorted(pyenv.glob(f"{major_minor}.*"), key=key, reverse=True):
            if re.fullmatch(r"\d+\.\d+\.\d+", d.name) and d.name.startswith(version):
                found.append(str(d / "bin" / f"python{major_minor}"))
    found += [f"/usr/bin/python{major_minor}", f"/usr/local/bin/python{major_minor}"]
    return found


def find_interpreter(spec: EnvSpec) -> tuple[str, tuple[int, ...]]:
    if not re.fullmatch(r"\d+\.\d+(\.\d+)?", spec.python or ""):
        raise EnvironmentProblem(f"environment python '{spec.python}': give a version such as 3.9 or 3.9.18")
    for python in ([spec.interpreter] if spec.interpreter else candidates(spec.python)):
        if os.access(python, os.X_OK):
            found = _version_of(python)
            if found and _matches(found, spec.python):
                return python, found
    where = spec.interpreter or "pyenv, /usr/bin, /usr/local/bin"
    raise EnvironmentProblem(f"Python {spec.python} is not installed on this machine (looked in {where})")


def _reachable_by_others(path: Path) -> bool:
    """Whether any uid can traverse to `path` (every ancestor o+x)."""
    path = Path(path).resolve()
    return all(p.stat().st_mode & 0o001 for p in [path, *path.parents])


def readable_interpreter(python: str, root: Path, log: Callable[[str], None]) -> tuple[str, Path | None]:
    """(an interpreter a sandbox uid can run, its library dir for LD_LIBRARY_PATH or None).

    bubblewrap runs as the sandbox uid, so it cannot even bind-mount pyenv's interpreters under
    /root (mode 700): such an installation is copied once into the cache. pyenv's binaries name
    their libpython by an absolute RUNPATH, hence LD_LIBRARY_PATH for the copy."""
    prefix = _base_prefix(python)
    if _reachable_by_others(prefix):
        return python, None
    copy = root / "pythons" / f"{prefix.name}-{hashlib.sha256(str(prefix).encode()).hexdigest()[:8]}"
    with open(root / f".{copy.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (copy / ".complete").exists():
            log(f"copying the Python installation {prefix} to {copy} (readable by sandboxes)")
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(prefix, copy, symlinks=True,
                            ignore=lambda d, names: [n for n in names if n in ("test", "__pycache__")
                                                     and Path(d).parent.name == "lib"] )
            _readable(copy)
            (copy / ".complete").write_text(str(prefix))
    return str(copy / "bin" / Path(python).name), copy / "lib"


def _lib_env(lib: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    if lib is not None:
        env["LD_LIBRARY_PATH"] = str(lib)
    return env


def spec_hash(spec: EnvSpec, interpreter: str, version: tuple[int, ...]) -> str:
    data = {"python": ".".join(map(str, version)), "interpreter": os.path.realpath(interpreter),
            "requirements": list(spec.requirements)}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def _base_prefix(python: str) -> Path:
    out = subprocess.run([python, "-c", "import sys; print(sys.base_prefix)"], capture_output=True, text=True, timeout=30)
    return Path(out.stdout.strip())


def _readable(path: Path) -> None:
    subprocess.run(["chmod", "-R", "a+rX", str(path)], check=False, capture_output=True)


def build_venv(spec: EnvSpec, *, log: Callable[[str], None] = lambda line: None) -> Path:
    """The cached virtualenv for `spec` (built now if missing)."""
    python, version = find_interpreter(spec)
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    python, lib = readable_interpreter(python, root, log)
    root.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        root.chmod(0o755)  # sandbox uids traverse it to reach the venvs
    digest = spec_hash(spec, python, version)
    target = root / digest
    with open(root / f".{digest}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build per spec, even across processes
        if (target / ".complete").exists():
            return target
        shutil.rmtree(target, ignore_errors=True)
        tmp = target  # complete only once `.complete` exists: a crash leaves a build that is redone
        log_path = root / f"{digest}.log"
        steps = [[python, "-m", "venv", *([] if spec.requirements else ["--without-pip"]), str(tmp)]]
        if spec.requirements:
            steps.append([str(tmp / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
                          *spec.requirements])
        with open(log_path, "w") as out:
            for step in steps:
                log(f"environment {digest}: {' '.join(step[:6])}{' ...' if len(step) > 6 else ''}")
                out.write(f"$ {shlex.join(step)}\n")
                out.flush()
                try:
                    res = subprocess.run(step, stdout=out, stderr=subprocess.STDOUT, timeout=BUILD_TIMEOUT_S,
                                         env=_lib_env(lib))
                    code = res.returncode
                except subprocess.TimeoutExpired:
                    code = -1
                if code != 0:
                    shutil.rmtree(tmp, ignore_errors=True)
                    tail = log_path.read_text()[-800:].strip().splitlines()[-3:]
                    raise EnvironmentProblem(f"building the Python {spec.python} environment failed "
                                             f"(log: {log_path}): {' | '.join(tail)}")
        (tmp / "selfcoder-env.json").write_text(json.dumps(
            {"python": python, "version": list(version), "requirements": list(spec.requirements),
             "lib": str(lib) if lib else None}))
        (tmp / ".complete").write_text("")
        _readable(tmp)
    return target


def prepare(spec: EnvSpec | None, backend: str, *, log: Callable[[str], None] = lambda line: None) -> Environment:
    """The environment for `spec` on `backend` (None: the sandbox's own python3)."""
    if spec is None or (spec.python is None and not spec.requirements):
        return Environment(install=spec.install if spec else None)
    if backend not in ("local", "docker"):
        raise EnvironmentProblem(f"a Python {spec.python} environment needs the local or docker sandbox "
                                 f"(for {backend}, use an image that has it: sandbox.image)")
    if spec.python is None:
        spec = EnvSpec(python="%d.%d" % sys.version_info[:2], requirements=spec.requirements,
                       install=spec.install, interpreter=spec.interpreter or "/usr/bin/python3")
    venv = build_venv(spec, log=log)
    info = json.loads((venv / "selfcoder-env.json").read_text())
    lib = Path(info["lib"]) if info.get("lib") else None
    mounts = [Mount(venv, str(venv))]
    prefix = lib.parent if lib else _base_prefix(info["python"])
    check = None
    if not str(prefix).startswith("/usr"):
        mounts.append(Mount(prefix, str(prefix)))  # the same paths in bubblewrap and in a container
    elif backend == "docker":  # the image's /usr, not the host's: it must have this interpreter
        check = f"Python {'.'.join(map(str, info['version']))} ({info['python']})"
    return Environment(venv=venv, mounts=mounts, install=spec.install, lib=lib, check=check)
