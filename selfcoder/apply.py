"""Apply a run's validated patch to the user's working tree — the only place selfcoder
writes the user's files, and only when asked (`--apply`, the editor's Apply action).

Refuses, naming the files, when the tree changed since the run's snapshot, and refuses a
patch that was not validated unless the caller says otherwise.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from selfcoder.errors import SelfcoderError
from selfcoder.fingerprint import changed_since


def apply_run(run_dir: Path, repo: Path, *, require_validated: bool = True) -> list[str]:
    """Apply `run_dir/patch.diff` to `repo`; returns the files it touched."""
    run_dir, repo = Path(run_dir), Path(repo)
    result = json.loads((run_dir / "result.json").read_text())
    if require_validated and result.get("status") != "resolved":
        raise SelfcoderError(f"run {result.get('run_id')} is '{result.get('status')}', not validated: not applying")
    patch = (run_dir / "patch.diff").read_text()
    if not patch.strip():
        raise SelfcoderError(f"run {result.get('run_id')} has an empty patch")
    snapshot = json.loads((run_dir / "snapshot.json").read_text())
    changed = changed_since(repo, snapshot)
    if changed:
        shown = ", ".join(changed[:10]) + (f" and {len(changed) - 10} more" if len(changed) > 10 else "")
        raise SelfcoderError(f"not applying: the working tree changed since the snapshot ({shown})")
    cmd = ["git", "apply", "--whitespace=nowarn", "-"]
    check = subprocess.run([*cmd[:-1], "--check", "-"], cwd=repo, input=patch, text=True, capture_output=True)
    if check.returncode != 0:
        raise SelfcoderError(f"not applying: the patch does not apply: {check.stderr.strip().splitlines()[0]}")
    subprocess.run(cmd, cwd=repo, input=patch, text=True, capture_output=True, check=True)
    return touched_files(patch)


def touched_files(patch: str) -> list[str]:
    """Paths a unified git diff changes (new paths for renames)."""
    files = []
    for line in patch.splitlines():
        if line.startswith("diff --git "):
            files.append(line.split(" b/", 1)[-1])
    return files
