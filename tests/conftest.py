"""Fixtures shared by every suite.

`backend` runs a test once per sandbox backend: `local` always (bubblewrap is a requirement,
so a broken bubblewrap fails loudly), `docker` only when the engine answers and the base image
exists (`scripts/test` provides both); otherwise it is skipped and the skip says why.
"""

from __future__ import annotations

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
