"""A client of the Docker engine, for everything that talks to it: the docker backend, the
removal of dead runs' containers (docker_gc.py) and the image build (image.py)."""

from __future__ import annotations

from selfcoder.core.errors import SandboxError

FIX_ENGINE = "run `sudo scripts/ensure-docker.sh` to start one, or point DOCKER_HOST at one"


def docker_client(timeout: int = 120):
    """A docker SDK client for the local engine or $DOCKER_HOST, API version negotiated."""
    try:
        import docker
        import docker.errors
    except ImportError:
        raise SandboxError("the docker Python SDK is not installed", hint="pip install docker") from None
    try:
        client = docker.from_env(version="auto", timeout=timeout)
        client.ping()
    except docker.errors.DockerException as e:
        first = (str(e).splitlines() or ["no answer"])[0][:200]
        raise SandboxError(f"no Docker engine answers: {first}", hint=FIX_ENGINE) from None
    return client
