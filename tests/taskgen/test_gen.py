"""`selfcoder bench gen` on a real (tiny) sdist, with real sandboxes, git and pytest runs; the tasks
are then graded by the real `selfcoder eval`: gold resolves every one, empty none; the same seed
builds the same tasks; bad input is one line naming the problem, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from taskgen_cli import selfcoder  # noqa: E402

from selfcoder.core.gitsafe import git  # noqa: E402

OFFICIAL_FIELDS = ("instance_id", "repo", "base_commit", "problem_statement", "patch", "test_patch", "FAIL_TO_PASS",
                   "PASS_TO_PASS", "version", "environment_setup_commit", "hints_text", "created_at")


def tasks_of(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "tasks.jsonl").read_text().splitlines()]


def gen(sdist: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return selfcoder("bench", "gen", "--sdist", str(sdist), "--count", "3", "--seed", "1", "--out", str(out), *extra)


def test_gen_builds_tasks_that_gold_resolves_and_empty_does_not(tmp_path, caches, make_sdist):
    sdist = make_sdist()
    out = tmp_path / "gen"
    res = gen(sdist, out)
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr and "tried" in res.stderr and "kept" in res.stderr
    tasks = tasks_of(out)
    assert len(tasks) == 3
    for task in tasks:
        assert all(key in task for key in OFFICIAL_FIELDS), task.keys()
        assert task["FAIL_TO_PASS"] and task["PASS_TO_PASS"]
        assert not set(task["FAIL_TO_PASS"]) & set(task["PASS_TO_PASS"])
        assert task["repo"] == "pypi/minicalc" and task["version"] == "0.1.0" and task["test_patch"] == ""
        assert task["created_at"] == "2023-11-14T22:13:20Z"
        repo = out / task["repo_path"]
        log = git(["log", "--format=%H", "--all"], worktree=repo).stdout.decode().split()
        assert log == [task["base_commit"]]  # one commit: the buggy tree, the original nowhere
        assert task["patch"].startswith("diff --git a/minicalc/core.py b/minicalc/core.py")
        assert "tests/" not in task["patch"]
        for test in task["FAIL_TO_PASS"][:1]:
            assert test in task["problem_statement"]
        changed = [line[1:].strip() for line in task["patch"].splitlines()
                   if line[:1] in "+-" and not line.startswith(("+++", "---")) and line[1:].strip()]
        assert not any(line in task["problem_statement"] for line in changed)  # the statement shows no diff

    gold = tmp_path / "gold"
    res = selfcoder("eval", str(out / "tasks.jsonl"), "--predictions", "gold", "--out", str(gold), "--workers", "2")
    assert res.returncode == 0, res.stderr
    report = json.loads((gold / "report.json").read_text())
    assert report["resolved_ids"] == sorted(t["instance_id"] for t in tasks), report["instances"]

    empty = tmp_path / "empty"
    res = selfcoder("eval", str(out / "tasks.jsonl"), "--predictions", "empty", "--out", str(empty))
    report = json.loads((empty / "report.json").read_text())
    assert report["resolved_ids"] == [] and len(report["empty_patch_ids"]) == 3

    # a wrong patch (the test file edited to pass, the bug left) is not resolved: tests come from the snapshot
    task = tasks[0]
    preds = tmp_path / "cheat.jsonl"
    cheat = ("diff --git a/tests/test_core.py b/tests/test_core.py\n--- a/tests/test_core.py\n+++ b/tests/test_core.py\n"
             "@@ -1,2 +1,2 @@\n-from minicalc import chunks, clamp, is_leap, mean, word_count\n"
             "+from minicalc import chunks, clamp, is_leap, mean, word_count  # noqa\n \n")
    preds.write_text(json.dumps({"instance_id": task["instance_id"], "model_name_or_path": "x", "model_patch": cheat}) + "\n")
    res = selfcoder("eval", str(out / "tasks.jsonl"), "--predictions", str(preds), "--out", str(tmp_path / "cheat"))
    report = json.loads((tmp_path / "cheat" / "report.json").read_text())
    assert report["resolved_ids"] == [] and report["unresolved_ids"] == [task["instance_id"]], report["instances"]


def test_the_same_seed_builds_the_same_tasks(tmp_path, caches, make_sdist):
    sdist = make_sdist()
    assert gen(sdist, tmp_path / "a").returncode == 0
    assert gen(sdist, tmp_path / "b").returncode == 0
    a, b = tasks_of(tmp_path / "a"), tasks_of(tmp_path / "b")
    assert a == b  # ids, commits, patches, tests, statements
    res = gen(sdist, tmp_path / "c", "--seed", "7")
    assert res.returncode == 0, res.stderr
    assert [t["instance_id"] for t in tasks_of(tmp_path / "c")] != [t["instance_id"] for t in a]


def one_line_error(res: subprocess.CompletedProcess, *needles: str) -> None:
    assert res.returncode != 0
    assert "Traceback" not in res.stderr, res.stderr
    errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, res.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]


def test_bad_input_is_one_line_naming_the_problem(tmp_path, caches, make_sdist):
    out = tmp_path / "out"
    one_line_error(gen(tmp_path / "missing-1.0.tar.gz", out), "missing-1.0.tar.gz", "no such sdist file")
    one_line_error(selfcoder("bench", "gen", "--sdist", "not a spec", "--out", str(out)), "NAME==VERSION")
    one_line_error(selfcoder("bench", "gen", "--out", str(out)), "--sdist", "--recipe")
    broken = tmp_path / "broken-1.0.tar.gz"
    broken.write_bytes(b"not a tarball")
    one_line_error(gen(broken, out), "cannot unpack")

    def fail_one(root: Path) -> None:
        tests = root / "tests" / "test_core.py"
        tests.write_text(tests.read_text().replace("assert mean([1, 2, 3, 6]) == 3", "assert mean([1, 2, 3, 6]) == 4"))

    one_line_error(gen(make_sdist(fail_one, "failing-0.1.0"), out), "1 test(s) fail before any change",
                   "tests/test_core.py::test_mean")
    res = gen(make_sdist(fail_one, "failing-0.1.0"), out, "--allow-clean-failures")
    assert res.returncode == 0, res.stderr
    assert all("tests/test_core.py::test_mean" not in t["PASS_TO_PASS"] + t["FAIL_TO_PASS"] for t in tasks_of(out))

    def no_tests(root: Path) -> None:
        import shutil

        shutil.rmtree(root / "tests")

    one_line_error(gen(make_sdist(no_tests, "notests-0.1.0"), out), "minicalc 0.1.0", "holds no tests")

    def cannot_import(root: Path) -> None:
        (root / "minicalc" / "__init__.py").write_text("import does_not_exist\n")

    one_line_error(gen(make_sdist(cannot_import, "noimport-0.1.0"), out), "before any change")
