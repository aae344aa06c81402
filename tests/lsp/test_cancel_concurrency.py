"""The server never blocks on a run: requests are answered while one goes, and a client's
cancel of the run's progress kills its sandbox and leaves nothing behind."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time

import pytest
from lsprotocol import types

pytestmark = pytest.mark.asyncio


def running(pattern: str) -> bool:
    return subprocess.run(["pgrep", "-f", pattern], capture_output=True).returncode == 0


async def test_status_answered_during_a_run_and_progress_cancel_kills_it(start_editor, sandbox_env):
    sleep = f"sleep 97.{os.getpid()}{int(time.time() * 1000) % 100000}"  # pgrep finds only ours
    editor = await start_editor("vscode", folder_settings={"testCmd": f"{sleep} && python3 -m pytest -q"},
                                init_options={"review": "none"})
    run_id = await editor.run()
    token = f"selfcoder/{run_id}"
    # the agent (or the validation) runs the slow test command in its sandbox
    await editor.wait_for(lambda: running(sleep), "a sandbox running the slow test command", timeout=240)
    # requests are answered while the run goes (the runner is in its own thread)
    statuses = await asyncio.gather(*(editor.status(run_id) for _ in range(5)))
    assert all(s["state"] == "running" and s["phase"] in ("agent", "validate") for s in statuses), statuses
    agents = await editor.command("selfcoder.listAgents")
    assert agents["agents"][0]["id"] == "seed"
    # a second run in the same folder is refused while this one goes
    from pygls.exceptions import JsonRpcException
    with pytest.raises(JsonRpcException, match=f"a run is already going in .* \\({run_id}\\)"):
        await editor.run()
    # the user presses cancel on the progress notification
    editor.client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    status = await editor.wait_finished(run_id, timeout=60)
    assert status["status"] == "cancelled", status
    assert not running(sleep), "the test command survived the cancel"
    await editor.wait_for(lambda: not any(sandbox_env.iterdir()), "the sandbox directories removed")
    end = editor.client.progress_reports[token][-1]
    assert isinstance(end, types.WorkDoneProgressEnd) and "cancelled" in end.message
