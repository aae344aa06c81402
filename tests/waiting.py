"""The one way tests wait: poll a condition until it holds, with a timeout generous enough for a
loaded 2-core machine.

Why one helper: a hand-written poll loop tends to fail on the very event it waits for. A loop
that checks `ready()`, then `process_exited()`, then the clock can see the process exit (or the
deadline pass) *after* `ready()` became true and report a failure for a success. Here the
condition is always checked once more after any reason to stop, so the only failure is "the
condition did not hold when we gave up"."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from typing import Awaitable, Callable, TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """The condition did not hold in time (or something it needed went away first)."""


def wait_until(condition: Callable[[], T], timeout: float, what: str, *, interval: float = 0.2,
               gave_up: Callable[[], str | None] | None = None, detail: Callable[[], str] | None = None) -> T:
    """Return condition()'s first truthy value. `gave_up()` returns a reason to stop early (a
    process exited) or None; `detail()` adds what the failure message should show (a screen)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        why = gave_up() if gave_up is not None else None
        if why is None and time.monotonic() > deadline:
            why = f"not within {timeout:.0f} s"
        if why is not None:
            value = condition()  # it may have become true while we looked elsewhere
            if value:
                return value
            raise WaitTimeout(f"{what}: {why}" + (f"\n{detail()}" if detail is not None else ""))
        time.sleep(interval)


async def wait_until_async(condition: Callable[[], Awaitable[T] | T], timeout: float, what: str, *,
                           interval: float = 0.2, detail: Callable[[], str] | None = None) -> T:
    """wait_until for an event loop: `condition` may be a coroutine function; the loop keeps
    running (and the client keeps receiving) between checks."""

    async def check():
        value = condition()
        return await value if asyncio.iscoroutine(value) else value

    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            value = await check()
            if value:
                return value
            raise WaitTimeout(f"{what}: not within {timeout:.0f} s" + (f"\n{detail()}" if detail is not None else ""))
        await asyncio.sleep(interval)


def wait_steady(read: Callable[[], T], timeout: float, what: str, *, settle: float = 0.3) -> T:
    """Wait until two reads `settle` seconds apart agree (a screen that has finished redrawing),
    instead of sleeping a fixed time and hoping."""
    last = [read()]

    def steady():
        time.sleep(settle)
        now = read()
        same, last[0] = now == last[0], now
        return same

    wait_until(steady, timeout, what, interval=0)
    return last[0]


def unique_sleep(seconds: int) -> str:
    """A `sleep` command line no other process on the machine has, so pgrep finds only ours."""
    return f"sleep {seconds}.{os.getpid()}{int(time.time() * 1000) % 100000}"


def process_running(pattern: str) -> bool:
    return subprocess.run(["pgrep", "-f", pattern], capture_output=True).returncode == 0


def wait_for_process(pattern: str, timeout: float = 120, what: str | None = None,
                     gave_up: Callable[[], str | None] | None = None) -> None:
    """Wait until a process whose command line matches `pattern` runs (a sandboxed command started)."""
    wait_until(lambda: process_running(pattern), timeout, what or f"no process matching {pattern!r} appeared",
               gave_up=gave_up)


def wait_no_process(pattern: str, timeout: float = 60) -> None:
    """Wait until no process matches `pattern` (a kill is delivered asynchronously)."""
    wait_until(lambda: not process_running(pattern), timeout, f"a process matching {pattern!r} is still running")


def exited(proc: subprocess.Popen) -> Callable[[], str | None]:
    """A gave_up for waits that need `proc` alive."""
    return lambda: None if proc.poll() is None else f"the process exited with {proc.returncode}"
