"""Fixtures for the gateway tests (plain helpers live in llm_helpers.py).

The scripted model is the only stand-in: every call below goes through the real
`litellm.completion` path, the real gateway and, for socket tests, a real HTTP server.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    """No real API keys and a private cache dir (local-server state) for every test."""
    for var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SELFCODER_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def script(tmp_path):
    """write a scripted-model file; returns its path."""
    count = [0]

    def make(replies: list, suffix: str = ".yaml", **top) -> Path:
        count[0] += 1
        path = tmp_path / f"script{count[0]}{suffix}"
        data = {"replies": replies, **top}
        path.write_text(json.dumps(data) if suffix == ".json" else yaml.safe_dump(data))
        return path

    return make
