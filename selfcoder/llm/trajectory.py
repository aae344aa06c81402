"""The run's `trajectory.jsonl`: every model request and response (and, from the runner,
every agent action) appended as one JSON line the moment it happens.

Appending and flushing per record means a run killed half-way still leaves a readable log
up to its last event. One lock per log keeps lines whole when the socket endpoint serves
several requests at once.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, Iterator


class TrajectoryLog:
    """Append-only JSON-lines log. Each record gets `ts` (unix seconds) and `type`."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._file = self.path.open("a", encoding="utf-8")

    def append(self, record: dict[str, Any]) -> dict[str, Any]:
        """Write `record` as one line (with `ts` and `type` added) and flush it to the OS."""
        line = {"ts": round(time.time(), 6), "type": record.get("type", "event")}
        line.update({k: v for k, v in record.items() if k != "type"})
        text = json.dumps(line, ensure_ascii=False, default=str)
        with self._lock:
            if self._file.closed:  # a late record (a model call that outlived its run): kept, the file not held open
                with self.path.open("a", encoding="utf-8") as f:
                    f.write(text + "\n")
            else:
                self._file.write(text + "\n")
                self._file.flush()
        return line

    def close(self) -> None:
        with self._lock:
            self._file.close()

    def __enter__(self) -> "TrajectoryLog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_trajectory(path: Path | str) -> list[dict[str, Any]]:
    """All records of a trajectory file (a torn last line, from a killed run, is skipped)."""
    return list(iter_trajectory(path))


def iter_trajectory(path: Path | str) -> Iterator[dict[str, Any]]:
    with Path(path).open(encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue
