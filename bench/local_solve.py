"""selfcoder's side of bench/solve_rate.py: the full `selfcoder solve` path on one task of a task set.

For each task, a fresh copy of its repository gets what `selfcoder solve --attempts N` does: repo map,
sandbox (settings' backend, `local` = bubblewrap by default), the scaffold (`--agent`, default seed)
talking to the model through the gateway, the host's validation choosing among attempts. Its chosen
patch (else the last attempt's) is what bench/solve_rate.py grades, the same way as the peer's. The
scaffold is copied once at the start and its git version recorded, so edits to it during a long run
cannot mix versions; the local model server is started (and timed) once, so no task pays for loading it.

Run on its own, this is `bench/solve_rate.py --systems selfcoder` (same options):

    .venv/bin/python bench/local_solve.py --tasks median slugify --max-steps 5
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def agent_steps(run_dir: Path | None) -> int | None:
    """Model replies the agent used, from its exit event in the run's trajectory."""
    from selfcoder.llm.trajectory import iter_trajectory

    path = Path(run_dir or "") / "trajectory.jsonl"
    if run_dir is None or not path.exists():
        return None
    steps = None
    for record in iter_trajectory(path):
        if record.get("type") == "agent_exit" and "steps" in record:  # the scaffold's exit event
            steps = record["steps"]
    return steps


def snapshot_agent(node: str, scratch: Path, name: str = "agent") -> tuple[Path, str]:
    """Copy the scaffold once (to scratch/name), so edits to it during a long run do not mix versions;
    with its git version (`+dirty` when its files differ from the commit)."""
    from selfcoder.core.scaffold import resolve_scaffold

    source = resolve_scaffold(node)
    copy = scratch / name
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    git = ["git", "-C", str(source)]
    commit = subprocess.run([*git, "log", "-1", "--format=%h", "--", "."], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run([*git, "status", "--porcelain", "--", "."], capture_output=True, text=True).stdout.strip()
    return copy, (commit or "untracked") + ("+dirty" if dirty else "")


def configure(model: str, agent: Path | str, max_steps: int, time_limit_s: float, sandbox: str | None = None,
              runs_dir: Path | None = None, env: dict[str, str] | None = None):
    """The user's settings (read from `env`, default the process's) with the benchmark's model,
    scaffold, caps and (absolute) runs dir."""
    from selfcoder.core.config import load_settings

    settings = load_settings(None, env).settings
    settings.model.name = model
    settings.agent.node = str(agent)
    settings.agent.max_steps = max_steps
    settings.agent.time_limit_s = time_limit_s
    if sandbox is not None:
        settings.sandbox.backend = sandbox
    if runs_dir is not None:
        settings.run.runs_dir = Path(runs_dir).resolve()
    return settings


def warm_local_model(settings) -> tuple[object | None, float]:
    """Start (or join) the local model server once, so no task pays for loading it; the lease
    keeps it up for the whole benchmark (the peer's calls hold none of their own)."""
    from selfcoder.llm.models import resolve

    if resolve(settings.model.name, settings.model.api_base).kind != "local":
        return None, 0.0
    from selfcoder.llm import local_server

    t0 = time.monotonic()
    lease = local_server.acquire(settings.local_model)
    return lease, time.monotonic() - t0


def wait_until_idle(lease, timeout_s: float = 1800.0) -> float | None:
    """Wait until the local server has finished what it is computing (a reply a run gave up on,
    which a non-streamed client cannot cancel) by asking it for one token; its seconds (None when
    the server did not answer: the next run reports that itself). Between two runs, so no run pays
    for the one before it."""
    request = urllib.request.Request(
        f"{lease.state.api_base}/completions", data=json.dumps({"prompt": "1", "max_tokens": 1}).encode(),
        headers={"Authorization": f"Bearer {lease.state.api_key}", "Content-Type": "application/json"})
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as reply:
            reply.read()
    except OSError:
        return None
    return round(time.monotonic() - t0, 1)


def copy_repo(source: Path, dest: Path) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", ".selfcoder"))
    return dest


def solve_one(task, settings, scratch: Path, attempts: int, run_dir: Path) -> dict:
    """One task through `solve`: the chosen (else last) patch, wall seconds, tokens over all attempts."""
    from selfcoder.core.errors import SelfcoderError
    from selfcoder.solve.attempts import make_task, solve

    repo = copy_repo(Path(task.repo_path), scratch / "selfcoder" / task.instance_id)
    if run_dir.exists():  # a run killed halfway before --resume
        shutil.rmtree(run_dir)
    row = {"status": "error", "seconds": 0.0, "tokens": 0, "steps": None, "attempts": 0, "patch": "",
           "exit": "", "message": "", "run_dir": str(run_dir)}
    t0 = time.monotonic()
    try:
        outcome = solve(make_task(repo, task.problem_statement, test_cmd=task.test_cmd, instance_id=task.instance_id),
                        settings, attempts=attempts, run_dir=run_dir)
    except SelfcoderError as e:
        row.update(seconds=round(time.monotonic() - t0, 1), message=str(e)[:300])
        return row
    best = outcome.best
    row.update(seconds=round(time.monotonic() - t0, 1), attempts=len(outcome.attempts),
               tokens=sum(int(r.usage.get("total_tokens", 0)) for r in outcome.attempts))
    if best is not None:
        row.update(status=str(best.status), patch=best.patch or "", steps=agent_steps(best.run_dir),
                   exit=best.agent_status, message=best.message[:300])
    return row


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "bench"))
    from solve_rate import main

    sys.exit(main(["--systems", "selfcoder", *sys.argv[1:]]))
