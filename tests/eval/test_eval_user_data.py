"""`selfcoder eval` on data as users bring it, run as they run it (the CLI, real sandboxes, real
git): a test run that times out is an error, as in the official harness; every instance keeps its
patch-application and test logs; progress is plain lines when nobody watches a terminal."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

PATCH = "diff --git a/notes.txt b/notes.txt\n--- a/notes.txt\n+++ b/notes.txt\n@@ -1 +1 @@\n-old\n+new\n"
# TAP: test `notes` passes once the patch is in, `other` always passes
RUN_TESTS = "#!/bin/sh\ngrep -q new notes.txt && echo 'ok 1 - notes' || echo 'not ok 1 - notes'\necho 'ok 2 - other'\n"


def make_repo(path: Path, run_tests: str = RUN_TESTS) -> Path:
    path.mkdir(parents=True)
    (path / "notes.txt").write_text("old\n")
    (path / "run_tests.sh").write_text(run_tests)
    (path / "run_tests.sh").chmod(0o755)
    return path


def instance(instance_id: str, repo_path: str = "repo", **fields) -> dict:
    return {"instance_id": instance_id, "problem_statement": "p", "repo_path": repo_path, "patch": PATCH,
            "test_cmd": "./run_tests.sh", "FAIL_TO_PASS": ["notes"], "PASS_TO_PASS": ["other"], **fields}


def write_tasks(path: Path, *instances: dict) -> Path:
    path.write_text("".join(json.dumps(i) + "\n" for i in instances))
    return path


def selfcoder_eval(tasks: Path, out: Path, sandbox_root: Path, *extra: str, predictions: str = "gold",
                   columns: int = 1000) -> subprocess.CompletedProcess:
    """The CLI with stdout and stderr to pipes (no terminal), as a batch job or `> log 2>&1` runs it."""
    env = dict(os.environ, SELFCODER_SANDBOX_ROOT=str(sandbox_root), SELFCODER_CONFIG=str(out.parent / "none.toml"),
               COLUMNS=str(columns))
    return subprocess.run([sys.executable, "-m", "selfcoder", "eval", str(tasks), "--predictions", predictions,
                           "--out", str(out), *extra], capture_output=True, text=True, env=env, timeout=300)


def test_a_test_run_that_times_out_is_an_error_not_an_unresolved_instance(tmp_path, sandbox_root):
    make_repo(tmp_path / "repo", RUN_TESTS + "sleep 60\n")  # the results are out, then it hangs
    tasks = write_tasks(tmp_path / "tasks.jsonl", instance("slow"))
    res = selfcoder_eval(tasks, tmp_path / "out", sandbox_root, "--test-timeout", "2")
    assert res.returncode == 1, res.stderr
    assert "Traceback" not in res.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["error_ids"] == ["slow"] and report["unresolved_ids"] == [] and report["resolved_ids"] == []
    row = report["instances"]["slow"]
    assert row["message"] == "the test run timed out after 2 s", row
    assert "broke" not in row["message"]


def test_each_instance_keeps_its_apply_and_test_logs_bounded_and_linked(tmp_path, sandbox_root):
    make_repo(tmp_path / "repo", RUN_TESTS + "yes 'a line the tests print again and again' | head -c 3000000\necho the end\n")
    broken = PATCH.replace("-old", "-not there")
    tasks = write_tasks(tmp_path / "tasks.jsonl", instance("fixed"), instance("noapply", patch=broken))
    out = tmp_path / "out"
    res = selfcoder_eval(tasks, out, sandbox_root)
    assert res.returncode == 1, res.stderr  # `noapply` is an error
    report = json.loads((out / "report.json").read_text())
    assert report["resolved_ids"] == ["fixed"] and report["error_ids"] == ["noapply"]
    fixed = json.loads((out / "instances" / "fixed.json").read_text())
    assert fixed["logs"] == {"apply": "logs/fixed/apply.log", "test": "logs/fixed/test.log"}
    assert report["instances"]["fixed"]["logs"] == fixed["logs"]
    assert "patch: applied with git apply" in (out / fixed["logs"]["apply"]).read_text()
    test_log = (out / fixed["logs"]["test"]).read_text()
    assert test_log.startswith("$ ./run_tests.sh") and "ok 1 - notes" in test_log  # the head ...
    assert "characters left out" in test_log and len(test_log) < 1_100_000  # ... bounded ...
    assert test_log.rstrip().endswith("the end")  # ... and the tail
    failed = json.loads((out / "instances" / "noapply.json").read_text())
    assert set(failed["logs"]) == {"apply"}  # no test ran
    apply_log = (out / failed["logs"]["apply"]).read_text()
    assert "patch: does not apply" in apply_log and "git apply" in apply_log and "patch --fuzz" in apply_log


def test_without_a_terminal_progress_is_one_plain_line_per_instance_and_a_summary(tmp_path, sandbox_root):
    """... and the summary table keeps whole ids at 80 columns (the width of a pipe)."""
    make_repo(tmp_path / "repo")
    first, second = "scikit-learn__scikit-learn-25747", "matplotlib__matplotlib-26011"
    tasks = write_tasks(tmp_path / "tasks.jsonl", instance(first), instance(second, patch=PATCH.replace("+new", "+nope")))
    res = selfcoder_eval(tasks, tmp_path / "out", sandbox_root, "--workers", "2", columns=80)
    assert res.returncode == 0, res.stderr
    lines = res.stderr.splitlines()
    assert "\r" not in res.stderr and "\x1b[" not in res.stderr  # no bar, no colours
    finished = sorted((line for line in lines if line.startswith("[")), key=lambda line: line.split()[1])
    assert len(finished) == 2, lines
    assert re.fullmatch(rf"\[[12]/2\] {second} unresolved \d+\.\d s", finished[0]), finished
    assert re.fullmatch(rf"\[[12]/2\] {first} resolved \d+\.\d s", finished[1]), finished
    summary = [line for line in lines if line.startswith("eval: ")]
    assert summary and re.fullmatch(r"eval: 2/2 finished, 1 resolved, 0 errors, \$0\.0000, \d+m\d\ds", summary[-1]), lines
    table = res.stdout.splitlines()
    assert max(map(len, table)) <= 80
    assert any(line.split()[:2] == [first, "resolved"] for line in table), res.stdout
    assert any(line.split()[:2] == [second, "unresolved"] for line in table), res.stdout


def test_a_bare_or_mirror_clone_is_a_repository_checked_out_at_base_commit(tmp_path, sandbox_root):
    work = make_repo(tmp_path / "work")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q", str(work)], check=True)
    subprocess.run([*git, "-C", str(work), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(work), "commit", "-qm", "base"], check=True)
    base = subprocess.run(["git", "-C", str(work), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    (work / "notes.txt").write_text("later\n")  # a later commit: the snapshot must be base_commit's
    subprocess.run([*git, "-C", str(work), "commit", "-qam", "later"], check=True)
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(tmp_path / "bare.git")], check=True)
    subprocess.run(["git", "clone", "-q", "--mirror", str(work), str(tmp_path / "mirror.git")], check=True)
    # a bare clone that borrows objects from a repository elsewhere on the host is refused, as a .git would be
    subprocess.run(["git", "clone", "-q", "--bare", "--shared", str(work), str(tmp_path / "borrowing.git")], check=True)
    tasks = write_tasks(tmp_path / "tasks.jsonl", instance("bare", "bare.git", base_commit=base),
                        instance("mirror", "mirror.git", base_commit=base),
                        instance("borrowing", "borrowing.git", base_commit=base))
    (tmp_path / "work").rename(tmp_path / "elsewhere")  # still on the host, outside borrowing.git
    (tmp_path / "borrowing.git" / "objects" / "info" / "alternates").write_text(str(tmp_path / "elsewhere/.git/objects") + "\n")
    res = selfcoder_eval(tasks, tmp_path / "out", sandbox_root)
    assert res.returncode == 1, res.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["resolved_ids"] == ["bare", "mirror"], report["instances"]
    assert report["error_ids"] == ["borrowing"] and "borrows objects" in report["instances"]["borrowing"]["message"]


def diff(path: str, old: str | None, new: str | None) -> str:
    """A git diff of one whole file (None: absent)."""
    a, b = old.splitlines() if old else [], new.splitlines() if new else []
    head = f"diff --git a/{path} b/{path}\n" + ("new file mode 100644\n" if old is None else "")
    head += f"--- {'/dev/null' if old is None else 'a/' + path}\n+++ {'/dev/null' if new is None else 'b/' + path}\n"
    return head + f"@@ -{1 if a else 0},{len(a)} +{1 if b else 0},{len(b)} @@\n" + "".join(
        f"-{line}\n" for line in a) + "".join(f"+{line}\n" for line in b)


VALUE_TEST = ("from tests.helpers import EXPECTED\nimport calc\n\n\n"
              "def test_value():\n    assert calc.value() == EXPECTED and calc.value() > 1\n")
ALL_PASS = ("import pytest\n\n\n@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_makereport(item, call):\n"
            "    outcome = yield\n    outcome.get_result().outcome = 'passed'\n")


def test_an_official_instance_resets_only_the_test_patch_files_but_never_a_runner_swap(tmp_path, sandbox_root):
    """The gold patch also changes tests/helpers.py, which the test patch does not touch: the
    official harness tests that change, so selfcoder does too for an instance with a test patch;
    a conftest.py from the patch is still put back. A task of selfcoder's own (no test patch)
    keeps the stricter rule: every test file from the snapshot."""
    def repo(path: Path, *extra: tuple[str, str]) -> None:
        files = {"calc.py": "def value():\n    return 1\n", "tests/__init__.py": "", "tests/helpers.py": "EXPECTED = 1\n",
                 "tests/test_calc.py": "def test_old():\n    assert True\n", **dict(extra)}
        for rel, text in files.items():
            (path / rel).parent.mkdir(parents=True, exist_ok=True)
            (path / rel).write_text(text)

    repo(tmp_path / "official")
    repo(tmp_path / "own", ("tests/test_value.py", VALUE_TEST))
    fix = diff("calc.py", "def value():\n    return 1\n", "def value():\n    return 2\n")
    gold = fix + diff("tests/helpers.py", "EXPECTED = 1\n", "EXPECTED = 2\n")
    common = {"test_cmd": "python3 -m pytest -q tests/test_value.py tests/test_calc.py", "patch": gold,
              "FAIL_TO_PASS": ["tests/test_value.py::test_value"], "PASS_TO_PASS": ["tests/test_calc.py::test_old"]}
    tasks = write_tasks(tmp_path / "tasks.jsonl",
                        instance("official", "official", test_patch=diff("tests/test_value.py", None, VALUE_TEST), **common),
                        instance("official-conftest", "official", test_patch=diff("tests/test_value.py", None, VALUE_TEST),
                                 **common),
                        instance("own", "own", **common))
    preds = tmp_path / "preds.jsonl"
    preds.write_text("".join(json.dumps({"instance_id": i, "model_name_or_path": "m", "model_patch": p}) + "\n" for i, p in (
        ("own", fix), ("official", gold), ("unknown", gold), ("own", gold),
        ("official-conftest", fix + diff("conftest.py", None, ALL_PASS)))))
    res = selfcoder_eval(tasks, tmp_path / "out", sandbox_root, "--workers", "2", predictions=str(preds), columns=80)
    assert res.returncode == 0, res.stderr
    # as the official harness: the last prediction for an id counts; both lines are named, on one line each
    assert f"skipped: {preds}:1: the prediction for own is replaced by the one on line 4 (the last one counts, " \
           "as in the official harness)\n" in res.stderr
    assert f"skipped: {preds}:3: a prediction for unknown, which is not in the task set\n" in res.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["resolved_ids"] == ["official"], report["instances"]
    assert report["unresolved_ids"] == ["official-conftest", "own"], report["instances"]
    records = {i: json.loads((tmp_path / "out" / "instances" / f"{i}.json").read_text()) for i in ("official-conftest", "own")}
    assert "conftest.py" in records["official-conftest"]["message"]
    assert records["official-conftest"]["grade"]["tests_status"]["FAIL_TO_PASS"]["failure"] == ["tests/test_value.py::test_value"]
    assert "tests/helpers.py" in records["own"]["message"]


def test_which_files_an_official_instance_takes_from_the_snapshot():
    from selfcoder.validate.protected import verdict_files

    paths = ["calc/ops.py", "conftest.py", "tests/conftest.py", "pkg/tests/helpers.py", "test_a.py", "setup.cfg",
             "setup.py", "pyproject.toml", "tox.ini", "x/sitecustomize.py", "evil.pth", "pytest.py", "_pytest/main.py",
             "lib/evil-1.dist-info/RECORD", ".selfcoder-validate/m1.py", "bin/test"]
    runner_swaps = ["conftest.py", "tests/conftest.py", "x/sitecustomize.py", "evil.pth", "pytest.py", "_pytest/main.py",
                    "lib/evil-1.dist-info/RECORD", ".selfcoder-validate/m1.py", "bin/test"]
    assert verdict_files(paths, "bin/test -C --verbose", official=True) == runner_swaps
    assert set(verdict_files(paths, "bin/test -C --verbose")) == set(paths) - {"calc/ops.py"}  # selfcoder's own tasks
