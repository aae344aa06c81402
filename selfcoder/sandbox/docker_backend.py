"""The `docker` sandbox backend (placeholder while being written)."""

from __future__ import annotations

from selfcoder.errors import SandboxError

FIX_ENGINE = "run `sudo scripts/ensure-docker.sh` to start one, or set DOCKER_HOST"


def docker_client(timeout: int = 120):
    """A docker SDK client for the local engine or $DOCKER_HOST, API version negotiated."""
    import docker
    import docker.errors

    try:
        client = docker.from_env(version="auto", timeout=timeout)
        client.ping()
    except docker.errors.DockerException as e:
        raise SandboxError(f"no Docker engine answers: {str(e).splitlines()[0][:160]}", hint=FIX_ENGINE) from None
    return client
