"""Apply a run's validated patch to the user's working tree — the only place selfcoder
writes the user's files, and only when asked (`--apply`, the editor's Apply action).

Git runs hardened (selfcoder/core/gitsafe.py) with a stand-in repository: nothing of the user's
repository config runs. A path through a symlink in the tree is refused (patch_paths.py, the
check the editor's apply uses too). Refuses, naming the files, when the tree changed since the run's snapshot, and refuses a
patch that was not validated unless the caller says otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path

from selfcoder.core.errors import SelfcoderError
from selfcoder.core.fingerprint import changed_since
from selfcoder.core.gitsafe import apply_to_files
from selfcoder.core.patch_paths import check_patch_paths, parse_changes


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
    check_patch_paths(repo, parse_changes(patch))
    problem = apply_to_files(patch, repo, check_only=True)
    if problem:
        raise SelfcoderError(f"not applying: the patch does not apply: {problem}")
    problem = apply_to_files(patch, repo)
    if problem:  # the tree changed between the check and the apply
        raise SelfcoderError(f"not applying: the patch does not apply: {problem}")
    return touched_files(patch)


def touched_files(patch: str) -> list[str]:
    """Paths a unified git diff changes (new paths for renames)."""
    files = []
    for line in patch.splitlines():
        if line.startswith("diff --git "):
            files.append(line.split(" b/", 1)[-1])
    return files
