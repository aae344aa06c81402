"""Predictions in the official SWE-bench format: JSONL of
`{"instance_id", "model_name_or_path", "model_patch"}` (a JSON list of them is read too).

`gold` and `empty` are the two built-in prediction sets: each task's own `patch`, and none.
"""

from __future__ import annotations

import json
from pathlib import Path

from selfcoder.core.errors import SelfcoderError
from selfcoder.core.files import atomic_write
from selfcoder.core.task import Task

KEYS = ("instance_id", "model_name_or_path", "model_patch")


def prediction(instance_id: str, model: str, patch: str | None) -> dict:
    return {"instance_id": instance_id, "model_name_or_path": model, "model_patch": patch or ""}


def builtin_predictions(name: str, tasks: list[Task]) -> dict[str, dict]:
    if name == "gold":
        return {t.instance_id: prediction(t.instance_id, "gold", t.patch) for t in tasks}
    if name == "empty":
        return {t.instance_id: prediction(t.instance_id, "empty", "") for t in tasks}
    raise SelfcoderError(f"unknown prediction set '{name}' (a file, 'gold' or 'empty')")


def read_predictions(path: Path, known: set[str] | None = None) -> tuple[dict[str, dict], list[str]]:
    """(predictions by instance id, problems "file:line: ..."). A later line for the same id wins,
    as in the official harness (`{pred["instance_id"]: pred for pred in predictions}`), and the
    replaced one is named with both line numbers; with `known` (the task set's ids), a prediction
    for another id is a problem naming its line (the official harness stops there)."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise SelfcoderError(f"{path}: cannot read predictions: {e.strerror}") from None
    rows: list[tuple[int, object]] = []
    if text.lstrip().startswith("["):
        try:
            rows = list(enumerate(json.loads(text), 1))
        except json.JSONDecodeError as e:
            raise SelfcoderError(f"{path}: not valid JSON: {e}") from None
    else:
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rows.append((n, json.loads(line)))
            except json.JSONDecodeError as e:
                rows.append((n, f"not valid JSON: {e.msg}"))
    found: dict[str, dict] = {}
    lines: dict[str, int] = {}
    problems = []
    for n, row in rows:
        if isinstance(row, str):
            problems.append(f"{path}:{n}: {row}")
            continue
        if not isinstance(row, dict) or not isinstance(row.get("instance_id"), str):
            problems.append(f"{path}:{n}: a prediction needs an instance_id")
            continue
        patch = row.get("model_patch")
        if patch is not None and not isinstance(patch, str):
            problems.append(f"{path}:{n}: model_patch must be a string")
            continue
        instance_id = row["instance_id"]
        if known is not None and instance_id not in known:
            problems.append(f"{path}:{n}: a prediction for {instance_id}, which is not in the task set")
            continue
        if instance_id in lines:
            problems.append(f"{path}:{lines[instance_id]}: the prediction for {instance_id} is replaced by the one on "
                            f"line {n} (the last one counts, as in the official harness)")
        lines[instance_id] = n
        found[instance_id] = prediction(instance_id, str(row.get("model_name_or_path") or path.stem), patch)
    return found, problems


def write_predictions(path: Path, predictions: list[dict]) -> None:
    """Write atomically (temp file + rename): a reader never sees half a file."""
    text = "".join(json.dumps({k: p.get(k, "") for k in KEYS}) + "\n" for p in predictions)
    atomic_write(Path(path), text)
