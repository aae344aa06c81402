"""Sandboxes: where untrusted code (agents, repositories' tests) runs.

    from selfcoder.sandbox import open_sandbox, SandboxSpec, Mount
    with open_sandbox(SandboxSpec(source=repo), backend="local") as sb:
        res = sb.run("python3 -m pytest -q")      # ExecResult(exit_code, output, duration_s, ...)
        patch = sb.diff()                          # take it before the sandbox closes

Backends: `local` (bubblewrap, the default) and `docker`. Each module is imported only when
used, so `docker` costs nothing for `local` users. `check_backends()` says which work here.
"""

from __future__ import annotations

import importlib

from selfcoder.core.errors import SandboxError
from selfcoder.sandbox.base import (
    AGENT_DIR,
    LLM_SOCKET,
    RUN_DIR,
    WORKDIR,
    ExecResult,
    Limits,
    Mount,
    Sandbox,
    SandboxSpec,
)

# name -> (module, class); the docker module also provides `docker_available() -> str | None`.
BACKENDS = {
    "local": ("selfcoder.sandbox.local", "LocalSandbox"),
    "docker": ("selfcoder.sandbox.docker_backend", "DockerSandbox"),
}

__all__ = [
    "AGENT_DIR", "LLM_SOCKET", "RUN_DIR", "WORKDIR", "BACKENDS", "ExecResult", "Limits", "Mount", "Sandbox",
    "SandboxSpec", "SandboxError", "open_sandbox", "check_backends",
]


def _backend_class(backend: str):
    if backend not in BACKENDS:
        raise SandboxError(f"unknown sandbox backend '{backend}' (allowed: {', '.join(BACKENDS)})")
    module_name, class_name = BACKENDS[backend]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name == module_name:
            raise SandboxError(f"the {backend} sandbox backend is not available in this installation") from None
        raise
    return getattr(module, class_name)


def open_sandbox(spec: SandboxSpec, backend: str = "local") -> Sandbox:
    """Create a sandbox holding a snapshot of `spec.source`; close it (or use `with`) when done."""
    return _backend_class(backend)(spec)


def check_backends() -> dict[str, str | None]:
    """backend -> None if it works on this machine, else why not and how to fix it."""
    from selfcoder.sandbox.local import bwrap_problem

    result: dict[str, str | None] = {"local": bwrap_problem()}
    try:
        from selfcoder.sandbox.docker_backend import docker_available
    except ImportError:
        result["docker"] = "docker backend not implemented"
    else:
        try:
            result["docker"] = docker_available()
        except SandboxError as e:
            result["docker"] = str(e)
    return result
