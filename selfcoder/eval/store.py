"""The evaluation's output directory, written so that a kill at any moment loses nothing finished.

    OUT/instances/<instance_id>.json   one record per finished instance (temp file + rename)
    OUT/runs/<instance_id>/            the agent's run dir (trajectory, patch, result)
    OUT/logs/<instance_id>/            apply.log (the patch application) and test.log (the test
                                       runs' output), each bounded; their paths in the record
    OUT/predictions.jsonl              official predictions, rewritten from the records
    OUT/report.json                    the report, rewritten from the records

A rerun reads `instances/` and skips what is there: that is the whole resume mechanism. An
instance interrupted mid-way has no record and runs again from the start.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from pathlib import Path

from selfcoder.core.files import atomic_write


def _file_name(instance_id: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", instance_id)[:120]
    if safe != instance_id:  # distinct ids must never share a file
        safe += "-" + hashlib.sha256(instance_id.encode()).hexdigest()[:8]
    return safe


def patch_digest(patch: str | None) -> str:
    return hashlib.sha256((patch or "").encode()).hexdigest()[:16]


class ResultStore:
    def __init__(self, out: Path):
        self.out = Path(out)
        self.dir = self.out / "instances"
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def path(self, instance_id: str) -> Path:
        return self.dir / f"{_file_name(instance_id)}.json"

    def run_dir(self, instance_id: str) -> Path:
        return self.out / "runs" / _file_name(instance_id)

    def get(self, instance_id: str) -> dict | None:
        try:
            record = json.loads(self.path(instance_id).read_text())
        except (OSError, ValueError):
            return None  # absent, or unreadable: run it again
        return record if record.get("instance_id") == instance_id else None

    def log_dir(self, instance_id: str) -> Path:
        return self.out / "logs" / _file_name(instance_id)

    def put(self, record: dict) -> None:
        """Store `record`; the logs its grade carries as text become files, and the record names
        them (`logs`: paths relative to OUT). The logs are written first: a record never names a
        log that is not there."""
        texts = (record.get("grade") or {}).pop("logs", None) or {}
        with self._lock:
            folder = self.log_dir(record["instance_id"])
            for stale in folder.glob("*.log") if folder.is_dir() else ():
                stale.unlink()  # from an earlier grading of this instance
            if texts:
                for name, text in sorted(texts.items()):
                    atomic_write(folder / f"{name}.log", text)
                record["logs"] = {name: f"logs/{folder.name}/{name}.log" for name in sorted(texts)}
            atomic_write(self.path(record["instance_id"]), json.dumps(record, indent=1))

    def all(self) -> dict[str, dict]:
        records = {}
        for path in sorted(self.dir.glob("*.json")):
            try:
                record = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            if isinstance(record, dict) and "instance_id" in record:
                records[record["instance_id"]] = record
        return records
