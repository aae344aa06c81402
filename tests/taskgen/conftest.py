"""Fixtures for the task builder's tests: the fixture project (tests/fixtures/sdists/minicalc-0.1.0)
packed into an sdist at test time (tarfile, no network), private sandbox, env and sdist caches,
and `selfcoder` run as a user runs it."""

from __future__ import annotations

import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Callable

import pytest

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "sdists" / "minicalc-0.1.0"
MTIME = 1_700_000_000  # fixed member times: the same sdist bytes, the same created_at


@pytest.fixture(autouse=True)
def _local_sandbox_works(local_sandbox_works):
    """bubblewrap must work here (tests/conftest.py)."""


@pytest.fixture
def caches(monkeypatch, sandbox_root):
    """Private env and sdist caches (traversable by sandbox uids) and no user config."""
    root = Path(tempfile.mkdtemp(prefix="selfcoder-test-taskgen-"))
    root.chmod(0o755)
    env = {"SELFCODER_ENV_CACHE": str(root / "envs"), "SELFCODER_SDIST_CACHE": str(root / "sdists"),
           "SELFCODER_CONFIG": str(root / "no-user-config.toml"), "SELFCODER_SANDBOX_ROOT": str(sandbox_root)}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    yield env
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def make_sdist(tmp_path) -> Callable[..., Path]:
    """make_sdist(edit=None, name=...) -> a .tar.gz of the fixture project; `edit(dir)` changes a copy first."""

    def make(edit: Callable[[Path], None] | None = None, name: str = "minicalc-0.1.0") -> Path:
        src = tmp_path / "src" / name
        shutil.rmtree(src, ignore_errors=True)
        shutil.copytree(FIXTURE, src)
        if edit:
            edit(src)
        archive = tmp_path / f"{name}.tar.gz"

        def fixed(info: tarfile.TarInfo) -> tarfile.TarInfo:
            info.mtime, info.uid, info.gid, info.uname, info.gname = MTIME, 0, 0, "", ""
            return info

        with tarfile.open(archive, "w:gz") as tar:
            tar.add(src, arcname=name, filter=fixed)
        return archive

    return make
