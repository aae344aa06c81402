"""Run mini-swe-agent once on one repository, inside mini-swe-agent's own venv (bench/solve_rate_mini.py).

It imports only mini-swe-agent, never selfcoder: the peer runs as its users run it, with a config it
ships, its `DefaultAgent` and its `DockerEnvironment`. The model's commands run in a container of
selfcoder's offline base image with no network, no capabilities and no bind mount (the repository is
copied in with `docker cp`), so nothing the model writes reaches the host; the agent process itself
(pinned code from PyPI) runs here. The patch is the container's work tree against the base commit,
taken after the agent stops for whatever reason (submitted, step or time limit, format errors), as
selfcoder's runner takes its own. mini checks its wall-time limit only between steps, so a model call
can run far past it; a watchdog holds it to the limit as selfcoder's runner does: at the deadline it
takes the patch so far, writes the result and ends the process.

argv: spec.json. Writes the result JSON to the spec's "result" path (patch, exit status, steps, tokens).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

WORKDIR = "/workspace"
PATCH_CMD = "git add -A >/dev/null 2>&1; git -c core.quotepath=off diff --cached --binary {base}"
MAX_PATCH_CHARS = 2_000_000


def tokens_of(messages: list[dict]) -> dict:
    """Prompt and completion tokens the server reported, over every model reply (format errors too)."""
    total = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    for message in messages:
        response = (message.get("extra") or {}).get("response")
        usage = response.get("usage") if isinstance(response, dict) else None
        for key in total:
            total[key] += int((usage or {}).get(key) or 0)
    return total


class Finish:
    """Writes the result once: whichever comes first, the agent's end or the deadline."""

    def __init__(self, path: str, t0: float):
        self.path, self.t0, self.lock, self.done = Path(path), t0, threading.Lock(), False

    def __call__(self, result: dict) -> bool:
        with self.lock:
            if self.done:
                return False
            self.done = True
            result["seconds"] = round(time.monotonic() - self.t0, 1)
            self.path.write_text(json.dumps(result))
            return True


def take_patch(env, base: str, result: dict) -> None:
    out = env.execute({"command": PATCH_CMD.format(base=base)}, timeout=120)
    if out["returncode"] == 0:
        result["patch"] = out["output"][:MAX_PATCH_CHARS]
    else:
        result["message"] = (result["message"] + f" | taking the patch failed: {out['output'][-300:]}").strip(" |")


def main(spec_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text())
    t0 = time.monotonic()
    finish = Finish(spec["result"], t0)
    from minisweagent.agents.default import DefaultAgent
    from minisweagent.config import get_config_from_spec
    from minisweagent.environments.docker import DockerEnvironment
    from minisweagent.models import get_model

    config = get_config_from_spec(spec["config"])
    model_config = dict(config.get("model", {}))
    model_config["model_kwargs"] = {**model_config.get("model_kwargs", {}), **spec["model_kwargs"]}
    if spec.get("model_class"):
        model_config["model_class"] = spec["model_class"]
    model = get_model(spec["model_name"], model_config)
    agent_config = {**config.get("agent", {}), "step_limit": spec["step_limit"],
                    "wall_time_limit_seconds": int(spec["time_limit_s"]), "output_path": Path(spec["trajectory"])}
    agent_config.pop("mode", None)  # the interactive agent's confirm/yolo switch: DefaultAgent never asks
    env_config = {**config.get("environment", {}), "image": spec["image"], "cwd": WORKDIR, "run_args": spec["run_args"]}
    env_config.pop("environment_class", None)

    result = {"exit_status": "", "patch": "", "steps": 0, "tokens": {}, "message": "", "seconds": 0.0}
    env = DockerEnvironment(**env_config)
    agent = None

    def deadline() -> None:
        late = {**result, "exit_status": "TimeExceeded", "message": "stopped at the time limit during a step"}
        if agent is not None:
            late.update(steps=agent.n_calls, tokens=tokens_of(list(agent.messages)))
        try:
            take_patch(env, spec["base_commit"], late)
        finally:
            if finish(late):
                subprocess.run(["docker", "rm", "-f", env.container_id], capture_output=True)
                os._exit(0)

    watchdog = threading.Timer(max(0.0, spec["time_limit_s"] - (time.monotonic() - t0)), deadline)
    watchdog.daemon = True
    watchdog.start()
    try:
        copied = subprocess.run(["docker", "cp", f"{spec['repo']}/.", f"{env.container_id}:{WORKDIR}"],
                                capture_output=True, text=True)
        if copied.returncode != 0:
            raise RuntimeError(f"docker cp failed: {copied.stderr.strip()}")
        agent = DefaultAgent(model, env, **agent_config)
        try:
            info = agent.run(spec["problem"])
            result["exit_status"] = info.get("exit_status", "")
        except Exception as e:  # the agent recorded it in its trajectory; the patch so far still counts
            result["exit_status"] = type(e).__name__
            result["message"] = str(e)[:500]
        result["steps"] = agent.n_calls
        result["tokens"] = tokens_of(agent.messages)
        take_patch(env, spec["base_commit"], result)
    except Exception as e:
        result["exit_status"] = result["exit_status"] or "error"
        result["message"] = f"{type(e).__name__}: {e}"[:500]
        result["traceback"] = traceback.format_exc()[-3000:]
    finally:
        watchdog.cancel()
        if finish(result):
            subprocess.run(["docker", "rm", "-f", env.container_id], capture_output=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
