"""A cancel token per run: callers (Ctrl-C, the editor's cancel button, evolve's shutdown) ask a run
to stop from any thread; the run's parts register what must be closed when that happens.

Why a token and not a flag on the runner: one runner object used to stay cancelled forever
once cancelled, and a library caller runs many runs at once; each run gets its own token, and
one token may be shared on purpose to stop a group of runs together.
"""

from __future__ import annotations

import threading
from typing import Callable

from selfcoder.core.errors import SelfcoderError


class Cancelled(SelfcoderError):
    """The run was cancelled; the runner turns it into status `cancelled`."""

    exit_code = 130


class CancelToken:
    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: dict[int, Callable[[], None]] = {}
        self._next = 0
        self.reason = ""

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self, reason: str = "cancelled") -> None:
        """Request cancellation; runs every registered callback once (errors in them are ignored)."""
        with self._lock:
            if self._event.is_set():
                return
            self.reason = reason
            self._event.set()
            callbacks = list(self._callbacks.values())
            self._callbacks.clear()
        for callback in callbacks:
            try:
                callback()
            except Exception:  # noqa: BLE001 - closing a half-dead sandbox may fail; cancel must go on
                pass

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback` on cancel (at once if already cancelled); returns a function that unregisters it."""
        with self._lock:
            if not self._event.is_set():
                key = self._next
                self._next += 1
                self._callbacks[key] = callback
                return lambda: self._callbacks.pop(key, None)
        callback()
        return lambda: None

    def check(self) -> None:
        """Raise `Cancelled` if cancellation was requested."""
        if self._event.is_set():
            raise Cancelled(self.reason or "cancelled")

    def wait(self, timeout: float | None = None) -> bool:
        return self._event.wait(timeout)
