"""Build the docker backend's base image offline: debootstrap from the apt mirror, then `docker import`.

Why: our machines (and many CI runners) reach package registries but no image registry, so
`docker pull debian` is not an option. debootstrap only needs the Debian mirror apt already uses.
`sandbox/Dockerfile` builds an equivalent image for users who do have a registry.

The image holds python3 (+venv, pip, pytest), git, patch and bash, and a user `sandbox`
(uid/gid `SANDBOX_UID`) that the docker backend runs commands as when the host user is root.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Callable

from selfcoder.core.config import DEFAULT_IMAGE
from selfcoder.core.errors import SandboxError

SUITE = "bookworm"
PACKAGES = ("python3", "python3-venv", "python3-pip", "python3-pytest", "git", "patch", "bash")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
SANDBOX_UID = 10001  # not a user on typical hosts, so files it writes are not mistaken for anyone's
IMAGE_DIRS = ("workspace", "agent", "run/selfcoder", "opt/selfcoder")  # the backend's mount points
SOURCES = (Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list"))

# `docker import --change` instructions: what `docker run` uses when the backend passes nothing.
IMAGE_CHANGES = (
    'CMD ["/bin/bash"]',
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    "ENV PYTHONDONTWRITEBYTECODE=1",
    "WORKDIR /workspace",
    "LABEL org.opencontainers.image.title=selfcoder-base",
)

Progress = Callable[[str], None]


def apt_mirror(sources: tuple[Path, ...] = SOURCES, suite: str = SUITE) -> str:
    """The Debian mirror apt on this host uses for `suite` (deb822 or one-line format)."""
    for path in sources:
        try:
            text = path.read_text()
        except OSError:
            continue
        if path.suffix == ".sources":
            for stanza in re.split(r"\n\s*\n", text):
                fields = dict(
                    (k.strip().lower(), v.strip())
                    for k, _, v in (line.partition(":") for line in stanza.splitlines() if not line.startswith("#"))
                    if v
                )
                if suite in fields.get("suites", "").split() and fields.get("uris"):
                    return fields["uris"].split()[0]
        else:
            for line in text.splitlines():
                parts = re.sub(r"\[[^]]*\]", "", line).split()
                if len(parts) >= 3 and parts[0] == "deb" and parts[2] == suite:
                    return parts[1]
    return DEFAULT_MIRROR


def _client():
    from selfcoder.sandbox.docker_client import docker_client

    return docker_client()


def image_exists(client, name: str) -> bool:
    import docker.errors

    try:
        client.images.get(name)
        return True
    except docker.errors.ImageNotFound:
        return False


def build_image(name: str = DEFAULT_IMAGE, progress: Progress | None = None, *, force: bool = False,
                mirror: str | None = None) -> bool:
    """Build `name` unless it exists (or `force`). Returns True when an image was built.

    Needs root (debootstrap) and network access to the apt mirror; takes about 2 minutes."""
    say = progress or (lambda _msg: None)
    client = _client()
    if not force and image_exists(client, name):
        say(f"image {name} already exists (use --force to rebuild)")
        return False
    if os.geteuid() != 0:
        raise SandboxError("building the base image needs root (debootstrap)",
                           hint="run `sudo scripts/ensure-docker.sh`, or `docker build -t "
                                f"{name} sandbox/` where a registry is reachable")
    if shutil.which("debootstrap") is None:
        raise SandboxError("debootstrap is not installed", hint="apt-get install -y debootstrap")
    mirror = mirror or apt_mirror()
    with tempfile.TemporaryDirectory(prefix="selfcoder-rootfs-", dir="/var/tmp") as tmp:
        rootfs = Path(tmp) / "rootfs"
        _debootstrap(rootfs, mirror, say)
        _finish_rootfs(rootfs)
        say(f"importing {rootfs} as {name}")
        _import(client, rootfs, name)
    say(f"image {name} built")
    return True


def _debootstrap(rootfs: Path, mirror: str, say: Progress) -> None:
    cmd = ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, str(rootfs), mirror]
    say(f"debootstrap {SUITE} from {mirror} (about 2 minutes)")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    tail: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        line = line.rstrip()
        tail = (tail + [line])[-15:]
        if line[:3] in ("I: ", "W: ", "E: "):
            say(line)
    if proc.wait() != 0:
        raise SandboxError(f"debootstrap failed (exit {proc.returncode}): " + " | ".join(tail[-3:]),
                           hint=f"check that the mirror {mirror} is reachable")


def _finish_rootfs(rootfs: Path) -> None:
    """Add the `sandbox` user and the mount points; drop caches to keep the image small."""
    etc = rootfs / "etc"
    with open(etc / "passwd", "a") as f:
        f.write(f"sandbox:x:{SANDBOX_UID}:{SANDBOX_UID}:selfcoder sandbox:/tmp:/bin/bash\n")
    with open(etc / "group", "a") as f:
        f.write(f"sandbox:x:{SANDBOX_UID}:\n")
    for d in IMAGE_DIRS:
        (rootfs / d).mkdir(parents=True, exist_ok=True)
    for d in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for entry in (rootfs / d).glob("*"):
            if entry.is_file():
                entry.unlink()
    shutil.rmtree(rootfs / "usr/share/doc", ignore_errors=True)
    shutil.rmtree(rootfs / "usr/share/man", ignore_errors=True)


def _import(client, rootfs: Path, name: str) -> None:
    repository, _, tag = name.rpartition(":") if ":" in name.split("/")[-1] else (name, "", "latest")
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "--numeric-owner", "-cf", "-", "."], stdout=subprocess.PIPE)
    try:
        client.api.import_image(src=tar.stdout, repository=repository, tag=tag, changes=list(IMAGE_CHANGES),
                                stream_src=True)
    finally:
        assert tar.stdout is not None
        tar.stdout.close()
        rc = tar.wait()
    if rc != 0:
        raise SandboxError(f"tar of the rootfs failed (exit {rc})")
    if not image_exists(client, name):
        raise SandboxError(f"docker import did not produce {name}")
