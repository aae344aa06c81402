"""bench/solve_rate.py's report on fixed results, and how it picks tasks: no model, no sandbox."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

from solve_rate_report import build_report, render  # noqa: E402
from solve_rate_tasks import choose  # noqa: E402

from selfcoder.core.errors import SelfcoderError  # noqa: E402


def row(task: str, resolved: bool, seconds: float, tokens: int, outcome: str | None = None) -> dict:
    return {"task": task, "resolved": resolved, "outcome": outcome or ("resolved" if resolved else "unresolved"),
            "seconds": seconds, "tokens": tokens, "steps": 3, "attempts": 1, "exit": "submitted"}


TASKS = [f"t{i}" for i in range(6)]
# selfcoder solves t0..t4, mini only t0: 4 tasks only selfcoder solved, none only mini
SELFCODER = {t: row(t, t != "t5", 10.0 * (i + 1), 1000 * (i + 1)) for i, t in enumerate(TASKS)}
MINI = {t: row(t, t == "t0", 5.0, 300, None if t == "t0" else "empty_patch") for t in TASKS}


def test_rates_intervals_means_and_the_paired_test():
    report = build_report({"selfcoder": SELFCODER, "mini": MINI}, TASKS, ["selfcoder", "mini"])
    s, m = report["systems"]["selfcoder"], report["systems"]["mini"]
    assert (s["solved"], s["tasks"], m["solved"], m["tasks"]) == (5, 6, 1, 6)
    assert s["wilson95"] == pytest.approx([0.4365, 0.9699], abs=1e-4)  # Wilson 95 % for 5 of 6
    assert m["wilson95"] == pytest.approx([0.0301, 0.5635], abs=1e-4)  # and for 1 of 6
    assert s["mean_s"] == pytest.approx(35.0) and s["mean_tokens"] == pytest.approx(3500)
    assert m["mean_s"] == pytest.approx(5.0) and m["mean_tokens"] == pytest.approx(300)
    p = report["paired"]
    assert (p["both"], p["only_first"], p["only_second"], p["neither"]) == (1, 4, 0, 1)
    assert p["mcnemar_p"] == pytest.approx(0.125)  # 4 discordant pairs all one way: 2 * (1/2)^4
    assert json.loads(json.dumps(report)) == report  # --json and report.json


def test_the_text_table_shows_every_task_and_system():
    text = render(build_report({"selfcoder": SELFCODER, "mini": MINI}, TASKS, ["selfcoder", "mini"],
                               header={"machine": {"cpu": "TestCPU 9000", "cores": 2, "usable_cores": 2,
                                                   "load": [1.0, 0.5, 0.25], "memory_gib": 8, "python": "3.11"},
                                       "build": {"model": "local", "mini_swe_agent": "2.4.6"}}))
    lines = text.splitlines()
    assert lines[0] == "machine: TestCPU 9000 | 2 cores (2 usable) | load 1.00 0.50 0.25 | 8 GiB | Python 3.11"
    assert lines[1] == "build: model local | mini_swe_agent 2.4.6"
    t5 = next(line for line in lines if line.startswith("t5 "))
    assert t5.split() == ["t5", "no", "(unresolved)", "60.0", "6000", "no", "(empty_patch)", "5.0", "300"]
    assert "selfcoder: solved 5/6 = 83 % (95 % Wilson 44-97 %) | mean 35.0 s and 3500 tokens per task" in lines
    assert "mini: solved 1/6 = 17 % (95 % Wilson 3-56 %) | mean 5.0 s and 300 tokens per task" in lines
    assert lines[-1] == ("paired on 6 tasks: both 1, only selfcoder 4, only mini 0, neither 1 | "
                         "McNemar exact p = 0.125")


def test_a_half_done_run_counts_only_what_finished():
    mini_half = {t: MINI[t] for t in TASKS[:2]}
    report = build_report({"selfcoder": SELFCODER, "mini": mini_half}, TASKS, ["selfcoder", "mini"])
    assert report["systems"]["mini"]["tasks"] == 2
    assert report["paired"]["tasks"] == 2  # only tasks both finished are paired
    assert report["tasks"][5]["mini"] is None
    assert "(not run)" in render(report)


def test_one_system_has_no_paired_test():
    report = build_report({"selfcoder": SELFCODER}, TASKS, ["selfcoder"])
    assert "paired" not in report and "McNemar" not in render(report)


def make_root(tmp_path: Path, names: list[str], split: dict | None = None) -> Path:
    for name in names:
        (tmp_path / name / "repo").mkdir(parents=True)
        (tmp_path / name / "PROBLEM.md").write_text(f"{name} is broken\n")
    (tmp_path / "not_a_task").mkdir()
    if split is not None:
        (tmp_path / "split.json").write_text(json.dumps(split))
    return tmp_path


def test_split_names_and_limit_pick_tasks_in_name_order(tmp_path):
    root = make_root(tmp_path, ["alpha", "beta", "gamma", "delta"],
                     {"search": ["gamma", "alpha"], "held_out": ["beta", f"{tmp_path.name}-delta"]})
    assert [d.name for d in choose(root)] == ["alpha", "beta", "delta", "gamma"]
    assert [d.name for d in choose(root, split="held_out")] == ["beta", "delta"]
    assert [d.name for d in choose(root, split="held-out")] == ["beta", "delta"]
    assert [d.name for d in choose(root, split="search", limit=1)] == ["alpha"]
    assert [d.name for d in choose(root, names=[f"{tmp_path.name}-gamma", "beta"])] == ["beta", "gamma"]


@pytest.mark.parametrize("kwargs, message", [
    ({"names": ["alpha", "nope"]}, "unknown task(s) nope in --tasks"),
    ({"split": "search", "names": ["beta"]}, "unknown task(s) beta in --tasks (from"),
    ({"split": "validation"}, "has no such split (it has: held_out, search)"),
])
def test_unknown_tasks_and_splits_are_named(tmp_path, kwargs, message):
    root = make_root(tmp_path, ["alpha", "beta"], {"search": ["alpha"], "held_out": ["beta"]})
    with pytest.raises(SelfcoderError, match=None) as e:
        choose(root, **kwargs)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_a_split_without_split_json_or_a_root_without_tasks_is_an_error(tmp_path):
    with pytest.raises(SelfcoderError, match="no task directories"):
        choose(tmp_path)
    root = make_root(tmp_path, ["alpha"])
    with pytest.raises(SelfcoderError, match="split.json does not exist"):
        choose(root, split="search")
