"""Fixtures for end-to-end runs: fixture repositories copied to a temp dir, scripted models,
settings pointing at them, and a per-test sandbox root so leftovers are visible."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from selfcoder.core.config import load_settings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture
def repo_copy(tmp_path):
    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(FIXTURES / "repos" / name, target)
        return target

    return copy


@pytest.fixture
def script(tmp_path):
    """script(reply, ...) -> the `scripted/<path>` model name replaying those replies."""

    def make(*replies) -> str:
        path = tmp_path / f"script-{len(list(tmp_path.glob('script-*.yaml')))}.yaml"
        path.write_text(yaml.safe_dump({"replies": list(replies)}))
        return f"scripted/{path}"

    return make


@pytest.fixture
def settings_for(tmp_path, monkeypatch, sandbox_root):
    monkeypatch.setenv("SELFCODER_CONFIG", str(tmp_path / "no-user-config.toml"))

    def make(model: str, backend: str = "local", **budget):
        settings = load_settings(None).settings
        settings.model.name = model
        settings.sandbox.backend = backend
        settings.sandbox.timeout_s = 120
        settings.agent.max_steps = 6
        settings.agent.time_limit_s = 120
        for key, value in budget.items():
            setattr(settings.budget, key, value)
        return settings

    return make
