"""Fixtures for validation tests: backends.

`any_backend` runs a test on `local` (bubblewrap: must work, fails loudly otherwise) and on
`docker` when its engine and image are there (skipped with the reason otherwise)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _local_sandbox_works():
    from selfcoder.sandbox.local import bwrap_problem

    problem = bwrap_problem()
    if problem:
        pytest.fail(f"the local sandbox does not work here: {problem}")


@pytest.fixture(params=["local", pytest.param("docker", marks=pytest.mark.docker)])
def any_backend(request) -> str:
    if request.param == "docker":
        try:
            from selfcoder.sandbox.docker_backend import docker_available
        except ImportError:
            pytest.skip("docker backend not implemented")
        reason = docker_available()
        if reason:
            pytest.skip(f"docker sandbox unavailable: {reason}")
    return request.param
