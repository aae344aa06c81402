"""Fixtures for eval tests: a private sandbox root, settings with the scripted model, and the
fixture task set (tests/fixtures/tasks.jsonl) whose repositories are only read."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from selfcoder.core.config import load_settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(autouse=True)
def _local_sandbox_works(local_sandbox_works):
    """bubblewrap must work here (tests/conftest.py)."""


@pytest.fixture
def settings(tmp_path, monkeypatch, sandbox_root):
    monkeypatch.setenv("SELFCODER_CONFIG", str(tmp_path / "no-user-config.toml"))

    def make(*replies):
        s = load_settings(None).settings
        if replies:
            script = tmp_path / f"script-{len(list(tmp_path.glob('script-*')))}.yaml"
            script.write_text(yaml.safe_dump({"replies": list(replies)}))
            s.model.name = f"scripted/{script}"
        s.sandbox.backend = "local"
        s.sandbox.timeout_s = 120
        s.agent.max_steps = 6
        s.agent.time_limit_s = 120
        return s

    return make


@pytest.fixture
def fixture_tasks():
    from selfcoder.eval.tasks import load_task_set

    return load_task_set(FIXTURES / "tasks.jsonl").tasks
