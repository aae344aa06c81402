"""Fixtures shared by every suite.

`backend` runs a test once per sandbox backend: `local` always (bubblewrap is a requirement,
so a broken bubblewrap fails loudly), `docker` only when the engine answers and the base image
exists (`scripts/test` provides both); otherwise it is skipped and the skip says why.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest


def docker_skip_reason() -> str | None:
    from selfcoder.sandbox.docker_backend import docker_available

    return docker_available()


@pytest.fixture(params=["local", pytest.param("docker", marks=pytest.mark.docker)])
def backend(request) -> str:
    if request.param == "docker":
        reason = docker_skip_reason()
        if reason:
            pytest.skip(f"docker sandbox unavailable: {reason}")
    else:
        from selfcoder.sandbox.local import bwrap_problem

        problem = bwrap_problem()
        if problem:
            pytest.fail(f"the local sandbox does not work here: {problem}")
    return request.param


@pytest.fixture
def sandbox_root(monkeypatch):
    """A private sandbox root (traversable by the sandbox uids, unlike pytest's 0700 tmp dirs), so a
    test sees exactly what its own sandboxes left behind."""
    root = Path(tempfile.mkdtemp(prefix="selfcoder-test-sandboxes-"))
    root.chmod(0o755)
    monkeypatch.setenv("SELFCODER_SANDBOX_ROOT", str(root))
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def local_sandbox_works():
    """Fail loudly (never skip) when bubblewrap does not work: it is a requirement."""
    from selfcoder.sandbox.local import bwrap_problem

    problem = bwrap_problem()
    if problem:
        pytest.fail(f"the local sandbox does not work here: {problem}")
