"""The docker base image has two definitions: `selfcoder sandbox build-image` (image.py, offline:
debootstrap + docker import) and sandbox/Dockerfile (for users with a registry). They must build
the same image: the same packages, the same `sandbox` user and directories, the same settings.
This test reads the Dockerfile and compares it with image.py's constants, so a change to one
that forgets the other fails here rather than as a difference between users' sandboxes."""

from __future__ import annotations

import re
from pathlib import Path

from selfcoder.sandbox import image

DOCKERFILE = (Path(__file__).resolve().parents[2] / "sandbox" / "Dockerfile").read_text()
RUN = DOCKERFILE.split("RUN ", 1)[1].split("\n\n", 1)[0]


def test_the_same_packages():
    installed = [w for w in re.search(r"apt-get install -y --no-install-recommends ([^&]+)&&", RUN).group(1).split() if w != "\\"]
    assert sorted(installed) == sorted(image.PACKAGES)


def test_the_same_sandbox_user_and_directories():
    uid = str(image.SANDBOX_UID)
    assert f"groupadd -g {uid} sandbox" in RUN
    assert f"useradd -u {uid} -g {uid} -d /tmp -s /bin/bash" in RUN and '-c "selfcoder sandbox"' in RUN
    made = re.search(r"mkdir -p ([^\n&\\]+)", RUN).group(1).split()
    assert sorted(made) == sorted("/" + d.lstrip("/") for d in image.IMAGE_DIRS)


def test_the_same_settings():
    settings = {line.strip().rstrip("\\").strip() for line in DOCKERFILE.splitlines()}
    for change in image.IMAGE_CHANGES:
        if change.startswith("ENV "):
            assert any(line.endswith(change.removeprefix("ENV ").strip()) for line in settings), change
        else:
            assert change in settings, change
