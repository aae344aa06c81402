"""Problem statements: from the failing tests' output without a model; with `--model` (the scripted
model, through the real gateway) a bug report, refused when it quotes a changed line. The model
is never sent the diff."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from taskgen_cli import selfcoder  # noqa: E402

from selfcoder.llm.scripted import sent_requests  # noqa: E402
from selfcoder.taskgen.statement import from_tests, reveals_fix, source_of_test  # noqa: E402

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "sdists" / "minicalc-0.1.0"
PATCH = ("diff --git a/m.py b/m.py\n--- a/m.py\n+++ b/m.py\n@@ -1,3 +1,3 @@\n def f(x):\n"
         "-    return x - 1\n+    return x + 1\n")


def test_statement_from_tests_names_the_failures_and_no_code():
    text = from_tests("minicalc 0.1.0", ["tests/test_core.py::test_mean"], {"tests/test_core.py::test_mean":
                      "assert 2.0 == 3\n +  where 2.0 = mean([1, 2, 3, 6])"}, still_passing=5)
    assert "tests/test_core.py::test_mean" in text and "where 2.0 = mean([1, 2, 3, 6])" in text
    assert "other 5 tests pass" in text and "diff" not in text
    many = from_tests("p 1", [f"t::test_{i}" for i in range(9)], {}, 1)
    assert "9 tests of p 1 fail" in many and "and 4 more" in many and "t::test_8" not in many


def test_reveals_fix_and_test_source():
    assert reveals_fix("Calling f(1) gives 0; maybe `return x + 1` is wanted", PATCH) == "return x + 1"
    assert reveals_fix("Calling f(1) gives 0 instead of 2.", PATCH) is None
    assert "assert mean([1, 2, 3, 6]) == 3" in source_of_test(FIXTURE, "tests/test_core.py::test_mean")
    assert source_of_test(FIXTURE, "tests/test_core.py::test_nothing") == ""
    assert source_of_test(FIXTURE, "tests/nowhere.py::test_x") == ""


def test_gen_with_a_model_writes_bug_reports_and_refuses_one_that_quotes_the_fix(tmp_path, caches, make_sdist):
    leak = (FIXTURE / "minicalc" / "core.py").read_text()  # quotes every original line: the fix among them
    script = tmp_path / "reports.yaml"
    script.write_text(yaml.safe_dump({"replies": ["Title: clamp is wrong\n\nclamp(5, 0, 10) gives 10.", leak,
                                                  "Title: third\n\nSomething else misbehaves."]}))
    out = tmp_path / "gen"
    res = selfcoder("bench", "gen", "--sdist", str(make_sdist()), "--count", "3", "--seed", "1", "--out", str(out),
                    "--model", f"scripted/{script}")
    assert res.returncode == 0, res.stderr
    tasks = [json.loads(line) for line in (out / "tasks.jsonl").read_text().splitlines()]
    assert tasks[0]["problem_statement"] == "Title: clamp is wrong\n\nclamp(5, 0, 10) gives 10.\n"
    assert tasks[1]["problem_statement"].startswith(f"{len(tasks[1]['FAIL_TO_PASS'])} test")  # the fallback
    assert "quotes a changed line" in res.stderr and "Traceback" not in res.stderr
    assert tasks[2]["problem_statement"] == "Title: third\n\nSomething else misbehaves.\n"
    sent = sent_requests(script)
    assert len(sent) == 3
    for request, task in zip(sent, tasks):
        prompt = json.dumps(request)
        assert "diff --git" not in prompt and task["FAIL_TO_PASS"][0] in prompt
        changed = [line[1:].strip() for line in task["patch"].splitlines()
                   if line[:1] in "+-" and not line.startswith(("+++", "---")) and len(line[1:].strip()) > 5]
        assert not any(line in prompt for line in changed)
    assert (out / "statements.jsonl").exists()  # the gateway's record of the calls


def test_a_failure_shows_the_tests_side_never_the_library_line():
    from selfcoder.taskgen.runtests import tests_side

    traceback = ("tests/test_recipes.py:712: in test_basic\n    actual = nth_combination(range(5), 2, 3)\n"
                 "more_itertools/recipes.py:709: in nth_combination\n    if index < 0:\n"
                 "more_itertools/recipes.py:713: in nth_combination\n    raise IndexError\nE   IndexError")
    shown = tests_side(traceback)
    assert shown == ("tests/test_recipes.py:712: in test_basic\n    actual = nth_combination(range(5), 2, 3)\n"
                     "E   IndexError")
