"""The Ray executor gives the local executor's results (issue 9, item 7), on a real local Ray
cluster: graded predictions and an agent run (scripted model) agree; remote model calls draw on
the driver's shared budget; a cancelled evaluation stops its remote sandboxes and leaves none.

One cluster for the module (ray.init costs seconds). Its workers inherit the environment at
ray.init, so the module's own sandbox root and config are set before it; at the end that root
must be empty: every remote sandbox was removed."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from selfcoder.eval.evaluate import Evaluation
from selfcoder.eval.predictions import builtin_predictions, prediction

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from e2e_replies import CALC_FIX  # noqa: E402
from waiting import unique_sleep, wait_for_process, wait_until  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ray = pytest.importorskip("ray", reason="the dev extra installs ray")  # scripts/test installs .[dev]


@pytest.fixture(scope="module")
def ray_executor(tmp_path_factory):
    from selfcoder.pools.ray_pool import RayExecutor

    root = Path(tempfile.mkdtemp(prefix="selfcoder-test-ray-sandboxes-"))
    root.chmod(0o755)
    saved = {k: os.environ.get(k) for k in ("SELFCODER_SANDBOX_ROOT", "SELFCODER_CONFIG")}
    os.environ["SELFCODER_SANDBOX_ROOT"] = str(root)
    os.environ["SELFCODER_CONFIG"] = str(tmp_path_factory.mktemp("cfg") / "none.toml")
    started = time.monotonic()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    print(f"ray.init: {time.monotonic() - started:.1f} s")
    executor = RayExecutor(2)  # joins the running cluster; does not shut it down
    executor.test_sandbox_root = root
    try:
        yield executor
        executor.shutdown(wait=True)
        left = list(root.iterdir())
        assert not left, f"remote sandboxes left behind: {left}"
    finally:
        ray.shutdown()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(root, ignore_errors=True)


def outcomes(report: dict) -> dict:
    keys = ("resolved_ids", "unresolved_ids", "empty_patch_ids", "error_ids", "completed_ids")
    return {k: report[k] for k in keys} | {i: r["outcome"] for i, r in report["instances"].items()}


def test_graded_predictions_agree_with_the_local_executor(tmp_path, settings, fixture_tasks, ray_executor):
    preds = builtin_predictions("gold", fixture_tasks)
    bad = (FIXTURES / "patches" / "wordcount_sh" / "bad.diff").read_text()
    preds["wordcount_sh-empty"] = prediction("wordcount_sh-empty", "wrong", bad)
    local = Evaluation(fixture_tasks, tmp_path / "local", settings=settings(), workers=2, predictions=preds).run()
    remote = Evaluation(fixture_tasks, tmp_path / "ray", settings=settings(), workers=2, predictions=preds,
                        executor=ray_executor).run()
    assert remote["resolved_ids"] == ["calc_py-mean"] and remote["unresolved_ids"] == ["wordcount_sh-empty"]
    assert outcomes(remote) == outcomes(local)
    # the driver wrote the records: a rerun on either executor redoes nothing
    progress = []
    Evaluation(fixture_tasks, tmp_path / "ray", settings=settings(), predictions=preds, executor=ray_executor,
               on_progress=progress.append).run()
    assert (progress[-1].done, progress[-1].skipped) == (0, 2)


def test_an_agent_run_agrees_and_its_calls_draw_on_the_shared_budget(tmp_path, settings, fixture_tasks,
                                                                     ray_executor):
    from selfcoder.llm.budget import Budget

    calc = [t for t in fixture_tasks if t.instance_id == "calc_py-mean"]
    local = Evaluation(calc, tmp_path / "local", settings=settings(CALC_FIX)).run()
    budget = Budget(max_tokens=10**9, max_cost_usd=100.0, max_calls=10**6)
    evaluation = Evaluation(calc, tmp_path / "ray", settings=settings(CALC_FIX), budget=budget, executor=ray_executor)
    remote = evaluation.run()
    assert outcomes(remote) == outcomes(local) and remote["resolved_ids"] == ["calc_py-mean"]
    row, local_row = remote["instances"]["calc_py-mean"], local["instances"]["calc_py-mean"]
    assert row["tokens"] == local_row["tokens"] > 0
    assert (tmp_path / "ray" / "runs" / "calc_py-mean" / "trajectory.jsonl").exists()  # the worker's run dir
    pred = json.loads((tmp_path / "ray" / "predictions.jsonl").read_text())
    assert pred["model_patch"] == json.loads((tmp_path / "local" / "predictions.jsonl").read_text())["model_patch"]
    used = evaluation.budget.to_dict()["used"]  # the keeper actor's budget, charged by the worker's gateway
    assert used["calls"] == row["calls"] and used["tokens"] == row["tokens"]


def test_the_shared_budget_reserves_waits_and_refuses_across_processes(ray_executor):
    from selfcoder.core.errors import BudgetExceeded
    from selfcoder.llm.budget import Budget

    shared = ray_executor.share_budget(Budget(max_tokens=100, max_cost_usd=1.0, max_calls=10))
    assert ray_executor.share_budget(shared) is shared
    first = shared.reserve(50, 40)
    assert first is not None and first.max_tokens == 40
    deadline = time.monotonic() + 1.5
    assert shared.reserve(50, 40, gave_up=lambda: time.monotonic() > deadline) is None  # waits: room is held
    shared.settle(first, tokens=60)
    with pytest.raises(BudgetExceeded, match="token budget"):
        shared.reserve(50, 40)  # 40 tokens left, the prompt alone needs 51
    own = Budget(max_tokens=10**6, max_cost_usd=1.0, max_calls=10, parent=shared)  # a run's budget above it
    assert own.exceeded() is None
    shared.settle(shared.reserve(1, 39), tokens=40)
    assert "shared token budget used" in own.exceeded()


def test_cancelling_stops_remote_runs_and_removes_their_sandboxes(tmp_path, settings, fixture_tasks, ray_executor):
    sleep = unique_sleep(300)
    slow = [t.model_copy(update={"test_cmd": f"{sleep}; " + t.test_cmd}) for t in fixture_tasks]
    evaluation = Evaluation(slow, tmp_path / "out", settings=settings(), workers=2,
                            predictions=builtin_predictions("gold", slow), executor=ray_executor)

    def stop_once_running() -> None:  # the stop comes while the remote test commands run
        try:
            wait_for_process(sleep, 180, "the remote test commands never ran")
        finally:
            evaluation.stop("stopped by the test")

    threading.Thread(target=stop_once_running, daemon=True).start()
    started = time.monotonic()
    report = evaluation.run()
    assert time.monotonic() - started < 240, "the remote test runs were not stopped"  # they sleep 300 s
    assert report["completed_ids"] == []  # nothing recorded: a rerun does both
    root = ray_executor.test_sandbox_root
    wait_until(lambda: not list(root.iterdir()), 60, "the cancelled remote runs left their sandboxes")
