"""`Evaluation` on the fixture tasks, with real sandboxes, git and test runs: gold resolves,
empty resolves nothing, a wrong patch does not resolve, a rerun redoes nothing, an interrupted
run keeps what finished, an agent (scripted model) is evaluated like a prediction."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from selfcoder.eval.evaluate import Evaluation
from selfcoder.eval.predictions import builtin_predictions, prediction

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from e2e_replies import CALC_FIX  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def report_of(out: Path) -> dict:
    return json.loads((out / "report.json").read_text())


def test_gold_resolves_all_and_a_rerun_redoes_nothing(tmp_path, settings, fixture_tasks):
    out = tmp_path / "out"
    seen = []
    report = Evaluation(fixture_tasks, out, settings=settings(), workers=2,
                        predictions=builtin_predictions("gold", fixture_tasks), on_progress=seen.append).run()
    assert report["resolved_ids"] == ["calc_py-mean", "wordcount_sh-empty"] and report["error_ids"] == []
    preds = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert {p["instance_id"]: p["model_patch"] for p in preds} == {t.instance_id: t.patch for t in fixture_tasks}
    assert set(preds[0]) == {"instance_id", "model_name_or_path", "model_patch"}
    assert seen[-1].resolved == 2
    records = {p: p.stat().st_mtime_ns for p in (out / "instances").iterdir()}

    progress = []
    again = Evaluation(fixture_tasks, out, settings=settings(), predictions=builtin_predictions("gold", fixture_tasks),
                       on_progress=progress.append).run()
    assert (progress[-1].done, progress[-1].skipped) == (0, 2)
    assert {p: p.stat().st_mtime_ns for p in (out / "instances").iterdir()} == records
    assert again["resolved_ids"] == report["resolved_ids"]


def test_empty_resolves_none_and_a_wrong_patch_does_not_resolve(tmp_path, settings, fixture_tasks):
    empty = Evaluation(fixture_tasks, tmp_path / "empty", settings=settings(),
                       predictions=builtin_predictions("empty", fixture_tasks)).run()
    assert empty["resolved_ids"] == [] and empty["empty_patch_ids"] == ["calc_py-mean", "wordcount_sh-empty"]
    wrong = {t.instance_id: prediction(t.instance_id, "wrong", (FIXTURES / "patches" / t.instance_id.split("-")[0]
                                                                / "bad.diff").read_text()) for t in fixture_tasks}
    wrong["calc_py-mean"]["model_patch"] = (FIXTURES / "patches/calc_py/noapply.diff").read_text()
    report = Evaluation(fixture_tasks, tmp_path / "wrong", settings=settings(), predictions=wrong).run()
    assert report["resolved_ids"] == []
    assert report["unresolved_ids"] == ["wordcount_sh-empty"]
    assert report["error_ids"] == ["calc_py-mean"]  # a patch that does not apply: the official error_ids
    assert "tabs separate words" in report["instances"]["wordcount_sh-empty"]["message"]


def test_an_interrupted_run_keeps_finished_instances_and_the_rerun_does_the_rest(tmp_path, settings, fixture_tasks):
    out = tmp_path / "out"
    gold = builtin_predictions("gold", fixture_tasks)

    def interrupt(progress):
        if progress.done == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Evaluation(fixture_tasks, out, settings=settings(), predictions=gold, on_progress=interrupt).run()
    assert report_of(out)["completed_ids"] == ["calc_py-mean"]
    progress = []
    report = Evaluation(fixture_tasks, out, settings=settings(), predictions=gold, on_progress=progress.append).run()
    assert (progress[-1].done, progress[-1].skipped) == (1, 1)
    assert report["resolved_ids"] == ["calc_py-mean", "wordcount_sh-empty"]


def test_bad_instances_are_errors_not_crashes(tmp_path, settings, fixture_tasks):
    calc = fixture_tasks[0]
    missing_repo = calc.model_copy(update={"instance_id": "no-repo", "repo_path": tmp_path / "nowhere"})
    old_python = calc.model_copy(update={"instance_id": "old-python"})
    old_python.__pydantic_extra__["environment"] = {"python": "2.5"}
    tasks = [calc, missing_repo, old_python]
    report = Evaluation(tasks, tmp_path / "out", settings=settings(), predictions=builtin_predictions("gold", tasks)).run()
    assert report["resolved_ids"] == ["calc_py-mean"]
    assert report["error_ids"] == ["no-repo", "old-python"]
    assert "Python 2.5 is not installed" in report["instances"]["old-python"]["message"]


def test_the_agent_is_run_and_graded(tmp_path, settings, fixture_tasks):
    calc = [t for t in fixture_tasks if t.instance_id == "calc_py-mean"]
    out = tmp_path / "out"
    report = Evaluation(calc, out, settings=settings(CALC_FIX)).run()
    assert report["resolved_ids"] == ["calc_py-mean"], report["instances"]
    row = report["instances"]["calc_py-mean"]
    assert row["tokens"] > 0 and row["run_status"] == "not_validated"
    pred = json.loads((out / "predictions.jsonl").read_text())
    assert "len(values)" in pred["model_patch"] and pred["model_name_or_path"].startswith("scripted/")
    assert (out / "runs" / "calc_py-mean" / "trajectory.jsonl").exists()
