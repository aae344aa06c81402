"""Paths and helpers shared by the validation tests (importable, unlike conftest)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from selfcoder.sandbox import Limits

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LIMITS = Limits(timeout_s=60, memory_mb=1024, pids=256, cpu_s=120, file_size_mb=64, output_bytes=50_000)


def patch_text(repo: str, name: str) -> str:
    return (FIXTURES / "patches" / repo / f"{name}.diff").read_text()


def fixture_task(instance_id: str) -> dict:
    for line in (FIXTURES / "tasks.jsonl").read_text().splitlines():
        task = json.loads(line)
        if task["instance_id"] == instance_id:
            return task
    raise KeyError(instance_id)


def git(repo: Path, *args: str) -> str:
    env = dict(os.environ, GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1",
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout
