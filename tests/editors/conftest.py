"""Fixtures of the real-editor tests: a private copy of the fixture repository and a sandbox root."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from editor_support import FIXTURES


@pytest.fixture
def sandbox_env():
    root = Path(tempfile.mkdtemp(prefix="selfcoder-test-sandboxes-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def repo(tmp_path):
    target = tmp_path / "calc_py"
    shutil.copytree(FIXTURES / "repos" / "calc_py", target)
    return target
