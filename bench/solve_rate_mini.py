"""The peer's side of bench/solve_rate.py: mini-swe-agent, pinned, in a venv of its own, its commands in Docker.

mini-swe-agent is installed once from PyPI at `MINI_VERSION` into `<selfcoder cache>/bench/
mini-swe-agent-<version>` (never into the project's venv: its pins are its own). Each task runs
bench/solve_rate_mini_worker.py with that venv's Python; the worker drives mini's `DefaultAgent`
with a config mini ships (`mini_textbased.yaml` by default: text replies with one fenced bash block,
which a llama.cpp server without tool calls can serve; `--mini-config mini.yaml` is its tool-call
default) and its `DockerEnvironment`, on selfcoder's offline base image with `--network none`, all
capabilities dropped and memory and process limits. The model is the same server selfcoder uses,
reached through mini's own litellm.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

MINI_VERSION = "2.4.6"
WORKER = Path(__file__).resolve().parent / "solve_rate_mini_worker.py"
DEFAULT_CONFIG = "mini_textbased.yaml"
MODEL_CLASSES = {"mini_textbased.yaml": "litellm_textbased"}  # the shipped configs that need a model class
KILL_GRACE_S = 300  # beyond the time limit: mini checks its wall-time limit only between steps
LABEL = "selfcoder-bench-mini"


class MiniUnavailable(Exception):
    """mini-swe-agent cannot run here; the message is one line that says why and what to do."""


@dataclass(frozen=True)
class Endpoint:
    """Where mini's litellm sends requests: the local server (its port and API key) or one the user names."""
    model: str  # a litellm model name, e.g. openai/local
    api_base: str
    api_key: str = field(default="x", repr=False)


def env_dir() -> Path:
    from selfcoder.llm.local_server import cache_dir

    return cache_dir() / "bench" / f"mini-swe-agent-{MINI_VERSION}"


def _installed(python: Path) -> str | None:
    if not python.exists():
        return None
    out = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.version('mini-swe-agent'))"],
                         capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else None


def ensure_mini(log=print) -> Path:
    """The venv's Python with mini-swe-agent `MINI_VERSION`, installing it the first time."""
    home = env_dir()
    python = home / "bin" / "python"
    if _installed(python) == MINI_VERSION:
        return python
    log(f"installing mini-swe-agent {MINI_VERSION} into {home} (once)")
    shutil.rmtree(home, ignore_errors=True)
    base = getattr(sys, "_base_executable", sys.executable)
    made = subprocess.run([base, "-m", "venv", str(home)], capture_output=True, text=True)
    if made.returncode != 0:
        raise MiniUnavailable(f"cannot create a venv for mini-swe-agent at {home}: {made.stderr.strip()[-200:]}")
    pip = subprocess.run([str(python), "-m", "pip", "install", "-q", f"mini-swe-agent=={MINI_VERSION}"],
                         capture_output=True, text=True)
    if pip.returncode != 0 or _installed(python) != MINI_VERSION:
        tail = (pip.stderr.strip().splitlines() or ["no output"])[-1]
        shutil.rmtree(home, ignore_errors=True)
        raise MiniUnavailable(f"pip could not install mini-swe-agent=={MINI_VERSION} ({tail}); "
                              f"rerun with a package index in reach, or --systems selfcoder")
    return python


def check_docker(image: str) -> None:
    """mini's commands only ever run in a container: no Docker, no mini."""
    from selfcoder.sandbox.docker_backend import docker_available

    why = docker_available(image)
    if not why:  # what a killed run left (its owner labels name a dead process): as `selfcoder sandbox gc`
        from selfcoder.sandbox.docker_gc import gc_containers

        gone = gc_containers()
        if gone:
            print(f"removed {len(gone)} container(s) a killed run left", file=sys.stderr)
    if why:
        raise MiniUnavailable(f"mini-swe-agent runs its commands in Docker, which is not usable here: {why}; "
                              "start it with ./scripts/ensure-docker.sh, or run --systems selfcoder")


def local_endpoint(lease) -> Endpoint:
    """The running local server, as mini's litellm reaches it (OpenAI-compatible, with its API key)."""
    from selfcoder.llm.models import LOCAL_ALIAS

    return Endpoint(f"openai/{LOCAL_ALIAS}", lease.state.api_base, lease.state.api_key)


def run_args(token: str) -> list[str]:
    """`docker run` options for the container mini executes the model's commands in."""
    from selfcoder.sandbox.docker_gc import owner_labels

    owner = [arg for key, value in owner_labels(f"bench-mini-{token}").items() for arg in ("--label", f"{key}={value}")]
    return ["--rm", "--network", "none", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
            "--pids-limit", "512", "--memory", "2g", "--memory-swap", "2g", "--label", f"{LABEL}={token}", *owner]


def remove_containers(token: str) -> None:
    ids = subprocess.run(["docker", "ps", "-aq", "--filter", f"label={LABEL}={token}"],
                         capture_output=True, text=True).stdout.split()
    if ids:
        subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)


def git_base(repo: Path) -> str:
    """Commit the copy as the base the patch is taken against (our own files, our own git)."""
    git = ["git", "-C", str(repo), "-c", "user.name=bench", "-c", "user.email=bench@localhost",
           "-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null"]
    if not (repo / ".git").exists():
        subprocess.run([*git, "init", "-q"], check=True, capture_output=True)
    subprocess.run([*git, "add", "-A"], check=True, capture_output=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "base"], check=True, capture_output=True)
    return subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()


def solve_one(python: Path, repo: Path, problem: str, endpoint: Endpoint, *, image: str, max_steps: int,
              time_limit_s: float, run_dir: Path, config: str = DEFAULT_CONFIG, temperature: float = 0.0,
              max_tokens: int | None = None) -> dict:
    """mini-swe-agent on a copy `repo` (consumed): its patch, wall seconds, tokens, steps, exit status;
    `max_tokens` caps each reply (None: mini's own config, no cap)."""
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    token = uuid.uuid4().hex[:12]
    spec = {"repo": str(repo), "problem": problem, "base_commit": git_base(repo), "image": image,
            "config": config, "model_class": MODEL_CLASSES.get(config, ""), "model_name": endpoint.model,
            "model_kwargs": {"api_base": endpoint.api_base, "temperature": temperature, "drop_params": True,
                             **({"max_tokens": max_tokens} if max_tokens else {})},
            "step_limit": max_steps, "time_limit_s": time_limit_s, "run_args": run_args(token),
            "trajectory": str(run_dir / "trajectory.json"), "result": str(run_dir / "result.json")}
    spec_path = run_dir / "spec.json"
    spec_path.write_text(json.dumps(spec))
    # the API key goes by environment (litellm's openai provider reads it): in model_kwargs it would
    # land in mini's trajectory, which saves its model config
    env = {**os.environ, "OPENAI_API_KEY": endpoint.api_key, "MSWEA_SILENT_STARTUP": "1",
           "MSWEA_COST_TRACKING": "ignore_errors", "MSWEA_GLOBAL_CONFIG_DIR": str(env_dir() / "config"),
           "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    row = {"status": "error", "seconds": 0.0, "tokens": 0, "steps": None, "attempts": 1, "patch": "", "exit": "",
           "message": "", "run_dir": str(run_dir)}
    try:
        with open(run_dir / "worker.log", "wb") as log:
            subprocess.run([str(python), str(WORKER), str(spec_path)], stdout=log, stderr=subprocess.STDOUT, env=env,
                           timeout=time_limit_s + KILL_GRACE_S)
    except subprocess.TimeoutExpired:
        row.update(exit="killed", message=f"still running {KILL_GRACE_S} s past the time limit: killed, no patch")
    finally:
        remove_containers(token)
    result_path = run_dir / "result.json"
    if result_path.exists():
        result = json.loads(result_path.read_text())
        patch = result.get("patch") or ""
        row.update(status="patch" if patch.strip() else "no patch", seconds=result.get("seconds", 0.0),
                   tokens=int((result.get("tokens") or {}).get("total_tokens", 0)), steps=result.get("steps"),
                   patch=patch, exit=result.get("exit_status", ""), message=result.get("message", "")[:300])
    elif not row["message"]:
        tail = (run_dir / "worker.log").read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
        row["message"] = f"the mini-swe-agent worker wrote no result: {tail[0][:300]}"
    return row


def version_of(python: Path) -> str:
    return _installed(python) or "not installed"
