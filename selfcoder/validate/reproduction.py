"""The agent's reproduction tests, run for the user's information: does each fail without the
patch's code change and pass with it ("fails before, passes after")?

A test the agent wrote proves nothing by itself (it may assert True, or vouch for a wrong
change), so the verdict never reads this: it is observed after the verdict is decided, in the
same throwaway sandbox, and any problem here only leaves the observation out. Only pytest test
commands are observed (the file is run alone with the command's own pytest), and not for an
official instance (its tests are the task's).
"""

from __future__ import annotations

import re
import shlex

from selfcoder.core.errors import SelfcoderError
from selfcoder.sandbox.base import Sandbox
from selfcoder.validate import workspace as ws
from selfcoder.validate.protected import new_test_files

PYTEST_START = re.compile(r"(?:^|[\s;&|(])(\S*python[\d.]*\s+-m\s+pytest|\S*pytest)(?=\s|$)")


def _outcome(exit_code: int, timed_out: bool) -> str:
    if timed_out:
        return "times out"
    return {0: "passes", 1: "fails", 5: "runs no test"}.get(exit_code, f"cannot run (exit {exit_code})")


def observe(sb: Sandbox, base: str, patch: str, test_cmd: str, timeout: float) -> dict[str, str]:
    """{test module the patch creates: "<outcome> before, <outcome> after"}; {} when there is none
    or it cannot be observed. Leaves the workspace at `base`."""
    files, start = new_test_files(patch), PYTEST_START.search(test_cmd)
    if not files or start is None:
        return {}

    def outcomes() -> dict[str, str]:
        found = {}
        for path in files:
            res = sb.run(f"{start.group(1)} -q -p no:cacheprovider {shlex.quote(path)}", timeout=timeout)
            found[path] = _outcome(res.exit_code, res.timed_out)
        return found

    try:
        ws.reset(sb, base)
        if not ws.apply_patch(sb, ws.write_patch(sb, "reproduction.diff", patch), base).ok:
            return {}
        texts = {path: sb.read_file(path) for path in files}
        after = outcomes()
        ws.reset(sb, base)  # the snapshot's code, with only the agent's tests added
        for path, data in texts.items():
            sb.write_file(path, data)
        before = outcomes()
        ws.reset(sb, base)
    except (ws.WorkspaceError, SelfcoderError, OSError):
        return {}
    return {path: f"{before[path]} before, {after[path]} after" for path in files}


def named(files: list[str], seen: dict[str, str]) -> str:
    """The reproduction tests for the user, each with what was observed of it: 'a.py (fails before, passes after)'."""
    return ", ".join(f"{path} ({seen[path]})" if isinstance(seen.get(path), str) else str(path) for path in files)
