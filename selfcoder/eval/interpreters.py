"""Which host Python runs a task's environment, and how a sandbox reaches it.

A task names a version, never a path that is run: the interpreter is the newest matching one
selfcoder finds itself (pyenv's `$PYENV_ROOT/versions/3.9.*`, `/usr/bin/python3.9`,
`/usr/local/bin/python3.9`), checked by the version it reports; a task's `interpreter` may only
pick among those. An installation sandbox uids cannot reach (pyenv's under /root, mode 700) is
copied once into the environment cache; the sandboxes mount it read-only at its host path.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Callable

from selfcoder.eval.env_fields import EnvironmentProblem, EnvSpec, shown
from selfcoder.sandbox.base import Mount

SYSTEM_PYTHON = "/usr/bin/python3"  # an environment with requirements but no version: the sandbox's python3


def version_of(python: str) -> tuple[int, ...] | None:
    """The version `python` reports, or None when it does not run."""
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
    """(the interpreter, its version): the best discovered one of `spec.python`. A named
    `spec.interpreter` only picks among those (the same file, by its real path); never run
    otherwise."""
    if not re.fullmatch(r"\d+\.\d+(\.\d+)?", spec.python or ""):
        raise EnvironmentProblem(f"environment python {shown(spec.python)}: give a version such as 3.9 or 3.9.18")
    found = [p for p in [*candidates(spec.python), SYSTEM_PYTHON] if os.access(p, os.X_OK)]
    if spec.interpreter:
        wanted = os.path.realpath(spec.interpreter)  # only looked at, never run
        found = [p for p in found if os.path.realpath(p) == wanted]
        if not found:
            raise EnvironmentProblem(
                f"environment interpreter {shown(spec.interpreter)} refused: not a Python {spec.python} that "
                f"selfcoder found on this machine (pyenv's, /usr/bin/python{'.'.join(spec.python.split('.')[:2])}, "
                "/usr/local/bin/...); leave `interpreter` out and name the version with `python`")
    for python in found:
        version = version_of(python)
        if version and _matches(version, spec.python):
            return python, version
    where = spec.interpreter or "pyenv, /usr/bin, /usr/local/bin"
    raise EnvironmentProblem(f"Python {spec.python} is not installed on this machine (looked in {where})")


def reachable_by_others(path: Path) -> bool:
    """Whether any uid can traverse to `path` (every ancestor o+x)."""
    path = Path(path).resolve()
    return all(p.stat().st_mode & 0o001 for p in [path, *path.parents])


def readable_interpreter(python: str, root: Path, log: Callable[[str], None]) -> tuple[str, Path | None]:
    """(an interpreter a sandbox uid can run, its library dir for LD_LIBRARY_PATH or None).

    bubblewrap runs as the sandbox uid, so it cannot even bind-mount pyenv's interpreters under
    /root (mode 700): such an installation is copied once into the cache. pyenv's binaries name
    their libpython by an absolute RUNPATH, hence LD_LIBRARY_PATH for the copy."""
    prefix = base_prefix(python)
    if reachable_by_others(prefix):
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
            make_readable(copy)
            (copy / ".complete").write_text(str(prefix))
    return str(copy / "bin" / Path(python).name), copy / "lib"


def base_prefix(python: str) -> Path:
    """Where `python`'s installation lives (its sys.base_prefix)."""
    out = subprocess.run([python, "-c", "import sys; print(sys.base_prefix)"], capture_output=True, text=True, timeout=30)
    return Path(out.stdout.strip())


def interpreter_mounts(python: str, lib: Path | None) -> list[Mount]:
    """The interpreter's installation at its host path, unless it lives under /usr (which every
    sandbox shows: the host's under bubblewrap, the image's in a container)."""
    prefix = lib.parent if lib else base_prefix(python)
    return [] if str(prefix).startswith("/usr") else [Mount(prefix, str(prefix))]


def make_readable(path: Path) -> None:
    """Let every uid read the tree `path` (sandbox uids run what the cache holds)."""
    subprocess.run(["chmod", "-R", "a+rX", str(path)], check=False, capture_output=True)
