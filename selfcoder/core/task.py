"""The Task format: a SWE-bench instance plus selfcoder's local fields.

A task set is JSONL, one Task per line. `repo_path` points at a local snapshot (a directory,
a git repository, or a tarball); `test_cmd` is the command that runs the repository's tests.
FAIL_TO_PASS / PASS_TO_PASS may be given as lists or, as in SWE-bench dumps, JSON strings.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from selfcoder.core.errors import SelfcoderError


class Task(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="allow")

    instance_id: str
    problem_statement: str
    repo: str = ""
    base_commit: str | None = None
    patch: str | None = None
    test_patch: str | None = None
    fail_to_pass: list[str] = Field(default_factory=list, alias="FAIL_TO_PASS")
    pass_to_pass: list[str] = Field(default_factory=list, alias="PASS_TO_PASS")
    repo_path: Path | None = None
    test_cmd: str | None = None

    @field_validator("fail_to_pass", "pass_to_pass", mode="before")
    @classmethod
    def _json_list(cls, value):
        if isinstance(value, str):
            return json.loads(value) if value.strip() else []
        return value

    @field_validator("problem_statement")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the problem statement is empty")
        return value

    def to_json(self) -> dict:
        return self.model_dump(mode="json", by_alias=True)


def load_tasks(path: Path) -> list[Task]:
    """Read a JSONL task set; a bad line is one error naming the file and line. A relative
    `repo_path` is relative to the task set's directory."""
    tasks = []
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            task = Task.model_validate_json(line)
        except ValidationError as e:
            first = e.errors()[0]
            raise SelfcoderError(f"{path}:{n}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
        if task.repo_path is not None and not task.repo_path.is_absolute():
            task.repo_path = Path(path).parent / task.repo_path  # relative to the task set
        tasks.append(task)
    return tasks
