"""Harness time per agent step: selfcoder's seed agent vs mini-swe-agent, zero model latency.

What it measures. Both agents do the same work on the same task (bench/tasks/<task>/repo, one
small module + its test): N steps that each run one shell command (`ls -la`, `cat MODULE`, ...,
made distinct with `&& echo step-i` because the seed refuses an identical command), one step that
applies the task's known fix, one step that submits: N + 2 model replies per run. Replies come
from models with no latency, so the time is the harness's:

- selfcoder: the real runner (`run(task, settings, validate=False)`, so the agent loop is measured
  without the fresh-sandbox validation, which is timed once separately), the `scripted` model
  through the real gateway (litellm, unix socket, trajectory log), the seed scaffold inside the
  `local` sandbox (bubblewrap: namespaces, no network, limits). Edit = SEARCH/REPLACE, submit =
  `SUBMIT`; no test command, so the seed runs no tests of its own.
- mini-swe-agent (its own venv, bench/.envs/minisweagent, shared with bench/sandbox_overhead.py):
  `DefaultAgent` + `LocalEnvironment` (no sandbox: a plain `bash -c` per command) in a git copy of
  the repo, with the `mini_textbased.yaml` templates and (a) its `DeterministicModel` (replies
  with pre-parsed actions, no litellm) or (b) `LitellmTextbasedModel` fed by litellm's
  `mock_response` (mini's real model path: litellm call, regex parse; one warm-up call before
  the run, as selfcoder's process is warm too). Edit = `sed -i`, submit =
  `echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && git add -A && git diff --cached`.

Per-step harness time = agent-loop wall time / steps: selfcoder from the first model request to
the agent's exit event (trajectory timestamps); mini the `agent.run()` call. selfcoder's fixed
costs (snapshot + gateway + repo map, sandbox create, agent start, diff + teardown, validation)
are shown apart: mini has no sandbox and no validation. Neither side counts interpreter start or
imports. Target: selfcoder / mini (DeterministicModel) per step <= 1.0. Medians of --reps runs,
the two sides alternating, after one warm-up run each.

    .venv/bin/python bench/agent_overhead.py [--steps 20] [--reps 5] [--task paginate] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sandbox_overhead import ensure_mini_env  # noqa: E402  (creates bench/.envs/minisweagent once)

TARGET = 1.0
SUBMIT_MINI = "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && git add -A && git diff --cached"

# Runs inside mini-swe-agent's venv. argv: spec.json; prints one JSON object.
MINI_WORKER = r"""
import json, os, shutil, subprocess, sys, time
t0 = time.perf_counter()
os.environ.setdefault("MSWEA_SILENT_STARTUP", "1")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
spec = json.load(open(sys.argv[1]))
import yaml
from minisweagent import package_dir
from minisweagent.agents.default import DefaultAgent
from minisweagent.environments.local import LocalEnvironment
from minisweagent.models.test_models import DeterministicModel, make_output
if spec["model"] == "litellm":
    import litellm
    from minisweagent.models.litellm_textbased_model import LitellmTextbasedModel
t_import = time.perf_counter()
cfg = yaml.safe_load((package_dir / "config" / "mini_textbased.yaml").read_text())
work, replies = spec["work"], spec["replies"]
shutil.copytree(spec["repo"], work, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
for cmd in (["git", "init", "-q"], ["git", "add", "-A"],
            ["git", "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "base"]):
    subprocess.run(cmd, cwd=work, check=True, capture_output=True)
env = LocalEnvironment(**{**cfg["environment"], "cwd": work})
obs = cfg["model"]["observation_template"]
if spec["model"] == "litellm":
    class MockedLitellm(LitellmTextbasedModel):
        n = 0
        def _query(self, messages, **kw):
            self.n += 1
            return litellm.completion(model=self.config.model_name, messages=messages,
                                      mock_response=replies[self.n - 1]["content"], **(self.config.model_kwargs | kw))
    litellm.completion(model="openai/mock", messages=[{"role": "user", "content": "hi"}], mock_response="warm")
    model = MockedLitellm(model_name="openai/mock", observation_template=obs, cost_tracking="ignore_errors",
                          model_kwargs=cfg["model"].get("model_kwargs", {}),
                          format_error_template=cfg["model"]["format_error_template"])
else:
    model = DeterministicModel(outputs=[make_output(r["content"], [{"command": r["command"]}], cost=0.0)
                                        for r in replies], observation_template=obs)
agent = DefaultAgent(model, env, system_template=cfg["agent"]["system_template"],
                     instance_template=cfg["agent"]["instance_template"], step_limit=0, cost_limit=0)
t_setup = time.perf_counter()
res = agent.run(task=spec["problem"])
t_run = time.perf_counter()
print(json.dumps({"import_s": t_import - t0, "setup_s": t_setup - t_import, "loop_s": t_run - t_setup,
                  "steps": agent.n_calls, "exit_status": res.get("exit_status"), "patch": res.get("submission", "")}))
"""


def load_task(name: str) -> dict:
    """The task's repo, problem, module and its one-line fix (from fix.diff)."""
    task = ROOT / "bench" / "tasks" / name
    diff = (task / "fix.diff").read_text().splitlines()
    old = [line[1:] for line in diff if line.startswith("-") and not line.startswith("---")]
    new = [line[1:] for line in diff if line.startswith("+") and not line.startswith("+++")]
    module = next(line[6:] for line in diff if line.startswith("+++ b/"))
    if len(old) != 1 or len(new) != 1:
        raise SystemExit(f"task {name}: fix.diff must change exactly one line for this benchmark")
    tests = sorted(p.name for p in (task / "repo").glob("test_*.py"))
    return {"name": name, "repo": task / "repo", "problem": (task / "PROBLEM.md").read_text().strip(),
            "module": module, "test": tests[0], "old": old[0], "new": new[0]}


def commands(task: dict, n: int) -> list[str]:
    base = ["ls -la", f"cat {task['module']}", f"grep -n def {task['module']}",
            f"wc -l {task['module']} {task['test']}", f"head -n 20 {task['test']}"]
    return [f"{base[i % len(base)]} && echo step-{i}" for i in range(n)]


def sed_edit(module: str, old: str, new: str) -> str:
    pattern = "".join("\\" + c if c in "\\/.*[]^$&" else c for c in old)
    replacement = "".join("\\" + c if c in "\\/&" else c for c in new)
    return f"sed -i {shlex.quote(f's/{pattern}/{replacement}/')} {module}"


def selfcoder_script(task: dict, n: int, folder: Path) -> Path:
    replies = [f"Looking around (step {i}).\n\n```bash\n{cmd}\n```\n" for i, cmd in enumerate(commands(task, n))]
    replies.append(f"Fixing it.\n\n{task['module']}\n<<<<<<< SEARCH\n{task['old']}\n=======\n{task['new']}\n"
                   ">>>>>>> REPLACE\n")
    replies.append("Done.\n\nSUBMIT\n")
    path = folder / "selfcoder-script.json"
    path.write_text(json.dumps({"replies": replies, "record": "/dev/null"}))  # no per-call record file
    return path


def mini_replies(task: dict, n: int) -> list[dict]:
    cmds = commands(task, n) + [sed_edit(task["module"], task["old"], task["new"]), SUBMIT_MINI]
    return [{"command": c, "content": f"THOUGHT: step {i}.\n\n```mswea_bash_command\n{c}\n```"}
            for i, c in enumerate(cmds)]


def run_selfcoder(task: dict, script: Path, n: int, scratch: Path, validate: bool = False) -> dict:
    from selfcoder.core.config import load_settings
    from selfcoder.llm.trajectory import read_trajectory
    from selfcoder.solve.runner import run
    from selfcoder.solve.attempts import PYTEST_CMD
    from selfcoder.core.task import Task

    settings = load_settings(None).settings
    settings.model.name = f"scripted/{script}"
    settings.agent.max_steps = settings.budget.max_calls = n + 10
    repo = Path(tempfile.mkdtemp(dir=scratch)) / "repo"
    shutil.copytree(task["repo"], repo, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    events: list[tuple[float, dict]] = []
    result = run(Task(instance_id=task["name"], problem_statement=task["problem"], repo_path=repo,
                      test_cmd=PYTEST_CMD if validate else None), settings, validate=validate,
                 on_event=lambda e: events.append((time.time(), e.to_json())))
    if task["new"].strip() not in result.patch:
        raise RuntimeError(f"selfcoder run did not apply the fix: {result.status} {result.message}")
    at = {e.get("phase") or e["type"]: t for t, e in events}
    traj = read_trajectory(result.run_dir / "trajectory.jsonl")
    first_call = next(r["ts"] for r in traj if r["type"] == "llm_request")
    exit_event = next(r for r in traj if r["type"] == "agent_exit" and "steps" in r)
    end = result.started_at + result.duration_s
    return {
        "total_s": result.duration_s,
        "prep_s": at["sandbox"] - result.started_at,  # snapshot fingerprint, gateway, repo map, socket
        "sandbox_s": at["agent"] - at["sandbox"],  # sandbox create
        "agent_start_s": first_call - at["agent"],  # python3 main.py in the sandbox, first prompt
        "loop_s": exit_event["ts"] - first_call,
        "teardown_s": end - exit_event["ts"],  # diff, sandbox close, gateway close (+ validation)
        "gateway_s": sum(r.get("duration_s", 0.0) for r in traj if r["type"] == "llm_response"),
        "validate_s": result.phase_durations_s.get("validate", 0.0),
        "steps": exit_event["steps"],
    }


def run_mini(python: Path, task: dict, replies: list[dict], model: str, scratch: Path) -> dict:
    folder = Path(tempfile.mkdtemp(dir=scratch))
    spec = {"repo": str(task["repo"]), "work": str(folder / "repo"), "model": model, "replies": replies,
            "problem": task["problem"]}
    (folder / "spec.json").write_text(json.dumps(spec))
    t0 = time.perf_counter()
    out = subprocess.run([str(python), "-c", MINI_WORKER, str(folder / "spec.json")], capture_output=True, text=True,
                         env={**os.environ, "MSWEA_SILENT_STARTUP": "1"}, cwd=folder)
    process_s = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(f"mini-swe-agent worker failed:\n{out.stderr[-2000:]}")
    data = json.loads(out.stdout.strip().splitlines()[-1])
    if data["exit_status"] != "Submitted" or task["new"].strip() not in data["patch"]:
        raise RuntimeError(f"mini-swe-agent run did not submit the fix: {data['exit_status']}")
    return {**data, "process_s": process_s, "total_s": data["setup_s"] + data["loop_s"]}


def median_of(runs: list[dict]) -> dict:
    return {k: statistics.median(r[k] for r in runs) for k, v in runs[0].items() if isinstance(v, (int, float))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=20, help="shell-command steps per run (plus 1 edit + 1 submit)")
    ap.add_argument("--reps", type=int, default=5, help="measured runs per side (after one warm-up)")
    ap.add_argument("--task", default="paginate", help="bench/tasks/<task> (its fix.diff must change one line)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args()

    python = ensure_mini_env()
    task = load_task(args.task)
    scratch = Path(tempfile.mkdtemp(prefix="bench-agent-overhead-"))
    try:
        script = selfcoder_script(task, args.steps, scratch)
        replies = mini_replies(task, args.steps)
        sides = {
            "selfcoder": lambda: run_selfcoder(task, script, args.steps, scratch),
            "mini": lambda: run_mini(python, task, replies, "deterministic", scratch),
            "mini_litellm": lambda: run_mini(python, task, replies, "litellm", scratch),
        }
        runs: dict[str, list[dict]] = {name: [] for name in sides}
        for rep in range(args.reps + 1):  # rep 0 warms up (imports, caches) and is dropped
            for name, run in sides.items():
                result = run()
                if rep:
                    runs[name].append(result)
        validation = run_selfcoder(task, script, args.steps, scratch, validate=True)["validate_s"]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    med = {name: median_of(rs) for name, rs in runs.items()}
    per_step = {name: m["loop_s"] / m["steps"] for name, m in med.items()}
    ratios = {
        "per_step_vs_mini": per_step["selfcoder"] / per_step["mini"],
        "per_step_vs_mini_litellm": per_step["selfcoder"] / per_step["mini_litellm"],
        "end_to_end_vs_mini": med["selfcoder"]["total_s"] / med["mini"]["total_s"],
    }
    if args.json:
        print(json.dumps({"task": args.task, "steps": args.steps, "reps": args.reps, "median": med,
                          "per_step_s": per_step, "validation_s": validation, "ratios": ratios,
                          "target": TARGET}, indent=2))
        return 0
    sc, steps = med["selfcoder"], int(med["selfcoder"]["steps"])
    print(f"agent overhead: task {args.task}, {steps} steps per run ({args.steps} shell commands, 1 edit, "
          f"1 submit), zero model latency; median of {args.reps} runs after a warm-up")
    print(f"{'harness':<46}{'total s':>9}{'fixed s':>9}{'loop s':>9}{'ms/step':>9}")
    names = {"selfcoder": "selfcoder (seed, local bwrap sandbox, gateway)",
             "mini": "mini-swe-agent (DeterministicModel, LocalEnv)",
             "mini_litellm": "mini-swe-agent (litellm mock, LocalEnv)"}
    for name, m in med.items():
        print(f"{names[name]:<46}{m['total_s']:>9.2f}{m['total_s'] - m['loop_s']:>9.2f}{m['loop_s']:>9.2f}"
              f"{1000 * per_step[name]:>9.1f}")
    print(f"selfcoder fixed costs: snapshot+gateway+repo map {sc['prep_s']:.2f} s | sandbox create "
          f"{sc['sandbox_s']:.2f} s | agent start {sc['agent_start_s']:.2f} s | diff+teardown "
          f"{sc['teardown_s']:.2f} s | validation (separate run, fresh sandbox + pytest) {validation:.2f} s")
    gw = sc["gateway_s"] / sc["steps"]
    print(f"selfcoder per step {1000 * per_step['selfcoder']:.1f} ms = gateway (litellm call) {1000 * gw:.1f} ms + "
          f"socket, agent and command in the sandbox {1000 * (per_step['selfcoder'] - gw):.1f} ms; "
          "mini fixed = repo copy + git init (+ one warm-up litellm call); imports not counted")
    verdict = "meets" if ratios["per_step_vs_mini"] <= TARGET else "MISSES"
    print(f"per-step ratio selfcoder / mini DeterministicModel: {ratios['per_step_vs_mini']:.2f} "
          f"({verdict} target <= {TARGET})")
    print(f"per-step ratio selfcoder / mini litellm mock:       {ratios['per_step_vs_mini_litellm']:.2f}")
    print(f"end-to-end ratio (fixed costs included, no validation): {ratios['end_to_end_vs_mini']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
