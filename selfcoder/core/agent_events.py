"""The scaffold's events, read from their own file in the run's I/O directory.

Why a file and not stdout: the agent's stdout is capped (head and tail kept), so a chatty
child used to lose its final `exit` event in the cut. The scaffold appends one JSON object per
line to `$SELFCODER_EVENTS` (`/run/selfcoder/events.jsonl` inside the sandbox); the host tails
the file while the agent runs and reads the rest once it has exited.

The file is written by untrusted code: lines are length-capped, the total read is capped,
anything that is not a JSON object is skipped, and the events are only recorded and shown.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Callable

EVENTS_FILE = "events.jsonl"
MAX_LINE_BYTES = 1 << 20
MAX_TOTAL_BYTES = 64 << 20


class AgentEventTail:
    """Reads new complete lines of `path` (from a polling thread, and once more in `close()`)."""

    def __init__(self, path: Path, on_event: Callable[[dict], None], poll_s: float = 0.2):
        self.path, self.on_event, self.poll_s = Path(path), on_event, poll_s
        self.exit: dict = {}
        self.dropped = 0
        self._offset = 0
        self._partial = b""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="agent-events", daemon=True)

    def __enter__(self) -> "AgentEventTail":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self.read_new(final=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_s):
            self.read_new()

    def read_new(self, final: bool = False) -> None:
        with self._lock:
            if self._offset >= MAX_TOTAL_BYTES:
                return
            try:
                with self.path.open("rb") as f:
                    f.seek(self._offset)
                    data = f.read(MAX_TOTAL_BYTES - self._offset)
            except OSError:
                return
            self._offset += len(data)
            data = self._partial + data
            *lines, self._partial = data.split(b"\n")
            if final and self._partial:
                lines, self._partial = [*lines, self._partial], b""
            if len(self._partial) > MAX_LINE_BYTES:  # a line that never ends: drop it
                self._partial, self.dropped = b"", self.dropped + 1
            for line in lines:
                self._line(line)

    def _line(self, line: bytes) -> None:
        if not line.strip():
            return
        if len(line) > MAX_LINE_BYTES:
            self.dropped += 1
            return
        try:
            event = json.loads(line)
        except ValueError:
            self.dropped += 1
            return
        if not isinstance(event, dict):
            self.dropped += 1
            return
        if event.get("type") == "exit":
            self.exit = event
        self.on_event(event)
