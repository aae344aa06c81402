"""Plain helpers for the gateway tests (a uniquely named module: several suites have a conftest)."""

from __future__ import annotations

import json
from pathlib import Path

from selfcoder.core.config import Settings

HERE = Path(__file__).parent
UNIX_CLIENT = HERE / "unix_client.py"


def make_settings(name: str, **sections) -> Settings:
    """Settings for model `name`, with section overrides, e.g. budget={"max_calls": 2}."""
    data = {**sections, "model": {"name": name, **sections.get("model", {})}}
    return Settings.model_validate(data)


def scripted(path: Path) -> str:
    return f"scripted/{path}"


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(l) for l in path.read_text().splitlines() if l.strip()]
