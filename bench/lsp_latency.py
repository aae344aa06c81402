"""Latency of `selfcoder.status` from a real LSP client, idle vs while a run is active.

Why: the language server must never block on a run (the runner works in its own thread and
hands events to the loop); a busy run should barely slow other requests. One server session:
N status requests idle, then a run starts (scripted model; the folder's test command sleeps so
the run stays in its sandbox while we measure) and N more status requests during it, then the
run is cancelled. Prints p50/p95 in ms and the p95 ratio (target <= 2). Not a test: nothing asserts.

    .venv/bin/python bench/lsp_latency.py [--n 200] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml
from lsprotocol import types
from pytest_lsp import client_capabilities, make_test_lsp_client

ROOT = Path(__file__).resolve().parent.parent
FIX = ("I will fix it.\n\ncalc/ops.py\n<<<<<<< SEARCH\n    count = len(values) - 1\n=======\n"
       "    count = len(values)\n>>>>>>> REPLACE\n")


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


async def measure(client, n: int, run_id: str | None) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="selfcoder.status", arguments=[{"runId": run_id}] if run_id else []))
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def main(n: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="selfcoder-lsp-bench-"))
    tmp.chmod(0o755)
    try:
        repo = tmp / "calc_py"
        shutil.copytree(ROOT / "tests/fixtures/repos/calc_py", repo)
        script = tmp / "script.yaml"
        script.write_text(yaml.safe_dump({"replies": [FIX]}))
        client = make_test_lsp_client()
        client.set_configuration({"testCmd": "sleep 600 && python3 -m pytest -q"}, section="selfcoder",
                                 scope_uri=repo.as_uri())
        (tmp / "sandboxes").mkdir(mode=0o755)
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "SELFCODER_CONFIG": str(tmp / "none.toml"),
               "SELFCODER_SANDBOX_ROOT": str(tmp / "sandboxes")}
        await client.start_io(sys.executable, "-m", "selfcoder", "lsp", env=env)
        await client.initialize_session(types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"), root_uri=repo.as_uri(),
            initialization_options={"model": {"name": f"scripted/{script}"}, "review": "none"}))
        await measure(client, 20, None)  # warm up
        idle = await measure(client, n, None)
        run = await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="selfcoder.run", arguments=[{"problem": "calc.mean is wrong", "folderUri": repo.as_uri()}]))
        run_id = run["runId"]
        while True:  # until the agent is working in its sandbox
            status = (await client.workspace_execute_command_async(types.ExecuteCommandParams(
                command="selfcoder.status", arguments=[{"runId": run_id}])))["runs"][0]
            if status["phase"] in ("agent", "validate") or status["state"] != "running":
                break
            await asyncio.sleep(0.2)
        busy = await measure(client, n, None)
        still = (await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="selfcoder.status", arguments=[{"runId": run_id}])))["runs"][0]["state"]
        await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="selfcoder.cancel", arguments=[{"runId": run_id}]))
        await client.shutdown_session()
        await client.stop()
        return {"n": n, "run_active_throughout": still == "running",
                "idle_ms": {"p50": round(statistics.median(idle), 3), "p95": round(pct(idle, 0.95), 3)},
                "active_ms": {"p50": round(statistics.median(busy), 3), "p95": round(pct(busy, 0.95), 3)},
                "p95_ratio": round(pct(busy, 0.95) / pct(idle, 0.95), 2)}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = asyncio.run(main(args.n))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"selfcoder.status over LSP, n={report['n']} (run active throughout: {report['run_active_throughout']})")
        print(f"  idle:   p50 {report['idle_ms']['p50']} ms  p95 {report['idle_ms']['p95']} ms")
        print(f"  active: p50 {report['active_ms']['p50']} ms  p95 {report['active_ms']['p95']} ms")
        print(f"  p95 ratio active/idle: {report['p95_ratio']} (target <= 2)")
