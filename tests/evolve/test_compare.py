"""`selfcoder archive compare NODE seed --tasks HELDOUT` (issue 10, item 8): both agents on held-out
tasks with real sandboxes and the host's grading (scripted model), the rates with Wilson
intervals, the paired test, the overlap warning, resume, and one-line errors for bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from selfcoder.evolve.archive import Archive
from selfcoder.evolve.db import EvalRow
from selfcoder.evolve.stats import mcnemar_exact, mcnemar_floor, tasks_needed, wilson
from selfcoder.core.scaffold import SEED_DIR


def make_archive(tmp: Path) -> Path:
    """An archive as a search leaves it, without running one: root (the seed), a valid child n1
    (a changed config.json), an invalid child n2; the search evaluated only `search-task`."""
    archive_dir = tmp / "arch"
    archive = Archive.create(archive_dir, SEED_DIR, {"search": {}})
    child = tmp / "child"
    shutil.copytree(SEED_DIR, child, ignore=shutil.ignore_patterns("__pycache__"))
    config = json.loads((child / "config.json").read_text())
    (child / "config.json").write_text(json.dumps({**config, "evolved_note": "tried harder"}, indent=2))
    archive.add_node(child, parent="root", status="valid", origin={"problem": "retry a failed edit"})
    archive.add_node(child, parent="n1", status="invalid", reason="broken.py does not compile")
    archive.record_evaluation(EvalRow(node="root", task="search-task", resolved=True, outcome="resolved"))
    archive.close()
    return archive_dir


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "selfcoder", "archive", *args], capture_output=True, text=True,
                          timeout=240)


def test_wilson_interval_matches_hand_computed_values():
    # p = k/n, z = 1.96: centre (p + z²/2n)/(1 + z²/n), half z/(1 + z²/n)·sqrt(p(1-p)/n + z²/4n²)
    assert wilson(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson(10, 10) == pytest.approx((0.7225, 1.0), abs=1e-4)
    assert wilson(8, 10) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    assert wilson(1, 2) == pytest.approx((0.0945, 0.9055), abs=1e-4)
    assert wilson(50, 100) == pytest.approx((0.4038, 0.5962), abs=1e-4)
    assert wilson(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson(3, 2)


def test_exact_mcnemar_is_the_two_sided_sign_test_on_disagreements():
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(0, 6) == pytest.approx(2 / 64)  # 2 · C(6,0) / 2^6
    assert mcnemar_exact(9, 1) == pytest.approx(2 * 11 / 1024)  # 2 · (C(10,0) + C(10,1)) / 2^10
    assert mcnemar_exact(3, 3) == 1.0  # capped
    assert mcnemar_exact(2, 5) == mcnemar_exact(5, 2)


def test_compare_on_held_out_tasks_then_resume_with_the_overlap_warning(sim):
    archive_dir = make_archive(sim["tmp"])
    out = sim["tmp"] / "cmp"
    args = ("compare", "n1", "seed", "--tasks", str(sim["tasks"]), "--archive", str(archive_dir), "--workers", "2",
            "--model", sim["agent"], "--out", str(out))
    first = cli(*args, "--json")
    assert first.returncode == 0, first.stdout + first.stderr
    result = json.loads(first.stdout)
    # calc-mean is resolved by both (the scripted fix), calc-clamp by neither: 1/2 each, Wilson [0.09, 0.91]
    assert [side["node"] for side in result["sides"]] == ["n1", "seed"]
    for side in result["sides"]:
        assert (side["solved"], side["finished"], side["rate"], side["errors"]) == (1, 2, 0.5, 0), side
        assert side["wilson_95"] == pytest.approx([0.0945, 0.9055], abs=1e-4)
        assert side["results"] == {"calc_py-mean": "resolved", "calc_py-clamp": "unresolved"}
    too_small = result["paired"].pop("too_small")
    assert result["paired"] == {"tasks": 2, "solved_only_by": {"n1": 0, "seed": 0}, "both": 1, "neither": 1,
                                "mcnemar_p": 1.0, "min_possible_p": 0.5}
    assert "with 2 held-out tasks the exact McNemar p can never go below 0.5" in too_small, too_small
    assert result["seen_by_search"] == [] and result["stopped"] is None
    assert "warning" not in first.stderr, first.stderr  # the search never saw these tasks
    records = sorted((out / "n1" / "instances").glob("*.json")) + sorted((out / "seed" / "instances").glob("*.json"))
    assert len(records) == 4
    assert json.loads((out / "n1" / "instances" / "calc_py-mean.json").read_text())["outcome"] == "resolved"
    stamps = {p: p.read_text() for p in records}

    archive = Archive(archive_dir)  # the search now evaluates a node on calc-mean
    archive.record_evaluation(EvalRow(node="n1", task="calc_py-mean", resolved=True, outcome="resolved"))
    archive.close()
    again = cli(*args)
    assert again.returncode == 0, again.stdout + again.stderr
    assert {p: p.read_text() for p in records} == stamps  # resumed: nothing ran again
    assert "1 of 2 held-out tasks were used during the search (calc_py-mean)" in " ".join(again.stderr.split())
    # without --json: the table and the paired summary for people
    assert "by n1 only 0, by seed only 0, both 1, neither 1" in again.stdout and "McNemar p = 1.000" in again.stdout
    assert "too few tasks: with 2 held-out tasks" in " ".join(again.stdout.split()), again.stdout


def test_a_set_too_small_to_ever_reach_p_below_005_is_named_and_six_tasks_are_enough():
    from selfcoder.evolve.compare import Side, report, too_small

    # the floor is reached: n tasks, each solved by one side only, all the same side
    for n in range(1, 9):
        assert mcnemar_floor(n) == pytest.approx(mcnemar_exact(n, 0))
    assert mcnemar_floor(5) == pytest.approx(0.0625) and mcnemar_floor(6) == pytest.approx(0.03125)
    assert tasks_needed() == 6 and tasks_needed(0.01) == 8
    assert "use at least 6 tasks" in too_small(5) and too_small(0) and too_small(6) is None
    # in --json: from the held-out set's size, not from how many both sides happened to finish
    a = Side("n1", Path("."), {f"t{i}": "resolved" for i in range(6)})
    b = Side("seed", Path("."), {f"t{i}": "unresolved" for i in range(6)})
    assert report([a, b], [])["paired"]["too_small"] is None
    assert report([a, b], [])["paired"]["mcnemar_p"] == pytest.approx(0.03125)
    assert "with 5 held-out tasks" in report([a, b], [], tasks=5)["paired"]["too_small"]


@pytest.mark.parametrize("args, message", [
    (("nX", "seed"), "nX: no such node"),
    (("n2", "seed"), "n2: the node is invalid"),
    (("n1", "n1"), "both sides are n1"),
    (("n1", "seed", "--tasks", "/nonexistent/heldout.jsonl"), "cannot read the task set"),
])
def test_compare_bad_input_is_one_line_error(sim, args, message):
    archive_dir = make_archive(sim["tmp"])
    if "--tasks" not in args:
        args = (*args, "--tasks", str(sim["tasks"]))
    proc = cli("compare", *args, "--archive", str(archive_dir))
    assert proc.returncode != 0
    assert message in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not (archive_dir / "compare").exists()  # nothing ran


def test_compare_refuses_a_directory_that_is_not_an_archive(sim):
    proc = cli("compare", "n1", "seed", "--tasks", str(sim["tasks"]), "--archive", str(sim["tmp"]))
    assert proc.returncode != 0 and "not an evolve archive" in proc.stderr and "Traceback" not in proc.stderr


def test_lineage_as_png(sim, tmp_path):
    from PIL import Image

    archive_dir = make_archive(sim["tmp"])
    png = tmp_path / "tree.png"
    proc = cli("lineage", "--out", str(png), "--archive", str(archive_dir))
    assert proc.returncode == 0, proc.stderr
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 3000
    image = Image.open(png).convert("RGB")
    assert image.width >= 200 and image.height >= 300  # three levels, drawn at 2x
    colours = image.getcolors(maxcolors=100_000)
    assert colours is not None and len(colours) > 20  # circles, lines and text, not a blank page
    bad = cli("lineage", "--out", str(tmp_path / "tree.gif"), "--archive", str(archive_dir))
    assert bad.returncode != 0 and ".svg, .html or .png" in bad.stderr and "Traceback" not in bad.stderr


def test_lineage_png_without_cairo_is_a_clear_error(monkeypatch, tmp_path):
    from selfcoder.core.errors import SelfcoderError
    from selfcoder.evolve.lineage import write_lineage

    monkeypatch.setitem(sys.modules, "cairosvg", None)  # as where cairosvg / libcairo is missing
    with pytest.raises(SelfcoderError, match="needs cairosvg and the cairo library"):
        write_lineage(tmp_path / "t.png", [], [], None)
    assert not (tmp_path / "t.png").exists()
