"""tests/waiting.py, the suite's one poll-until helper: a wait stops on success even when the
reason to give up (a process that exited, a deadline) shows up in the same round."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
from waiting import WaitTimeout, wait_steady, wait_until, wait_until_async


def test_an_exit_that_lands_between_the_check_and_the_give_up_test_is_not_a_failure():
    """The Neovim TUI flake: the process printed its last screen and exited right after the
    condition was checked. The give-up test then sees the exit; the wait must look once more."""
    proc = subprocess.Popen([sys.executable, "-c", "input(); print('DONE', flush=True)"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    output: list[str] = []
    checks = [0]

    def ready():
        checks[0] += 1
        if checks[0] == 1:  # the bad moment: the process finishes after this check has looked
            out, _ = proc.communicate("go\n", timeout=60)
            output.append(out)
            return False
        return "DONE" in "".join(output)

    gave_up = lambda: "the process exited" if proc.poll() is not None else None  # noqa: E731
    assert wait_until(ready, 60, "DONE never came", gave_up=gave_up) is True
    assert checks[0] == 2  # stopped by the exit, and passed on the second look


def test_a_condition_that_became_true_as_the_deadline_passed_is_a_success():
    calls = [0]

    def ready():
        calls[0] += 1
        return "yes" if calls[0] > 1 else None

    assert wait_until(ready, 0, "never") == "yes"


def test_a_condition_that_never_holds_fails_with_the_reason_and_the_detail():
    with pytest.raises(WaitTimeout, match=r"the pane: the process exited\nlast screen: X"):
        wait_until(lambda: False, 60, "the pane", gave_up=lambda: "the process exited", detail=lambda: "last screen: X")
    with pytest.raises(WaitTimeout, match=r"slow thing: not within 0 s"):
        wait_until(lambda: False, 0, "slow thing")


def test_async_wait_rechecks_after_the_deadline_and_can_await_the_condition():
    seen = []

    async def ready():
        seen.append(1)
        return len(seen) > 1

    assert asyncio.run(wait_until_async(ready, 0, "never")) is True
    with pytest.raises(WaitTimeout, match="nothing: not within 0 s"):
        asyncio.run(wait_until_async(lambda: None, 0, "nothing"))


def test_wait_steady_returns_once_two_reads_agree():
    values = iter(["a", "b", "c", "c", "c"])
    assert wait_steady(lambda: next(values), 30, "never steady", settle=0) == "c"
