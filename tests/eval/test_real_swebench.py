"""A real SWE-bench instance (sympy__sympy-20590, tests/fixtures/swebench/) graded with the
official rules on its real repository snapshot: SymPy 1.7's sdist, its own test runner, Python 3.9
+ mpmath 1.3.0 as in the official environment, the swebench package's log parser and grading.

The snapshot is fetched at setup time by scripts/fetch-swebench-fixture (scripts/test runs it);
where that could not be done the test is skipped saying so, and fails under CI. The environment's
`mpmath==1.3.0` comes from the hash-pinned wheel that script fetched, pip told to look nowhere
else (PIP_NO_INDEX, PIP_FIND_LINKS: the user's own settings), so nothing downloads here either."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from selfcoder.eval.environments import EnvSpec, EnvironmentProblem, find_interpreter

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "swebench" / "sympy__sympy-20590.jsonl"
ID = "sympy__sympy-20590"
# A patch that applies but does not fix the bug: test_immutable must still fail.
NOT_A_FIX = """diff --git a/sympy/core/_print_helpers.py b/sympy/core/_print_helpers.py
--- a/sympy/core/_print_helpers.py
+++ b/sympy/core/_print_helpers.py
@@ -17,6 +17,7 @@ class Printable:
     This also adds support for LaTeX printing in jupyter notebooks.
     \"\"\"
 
+    # (no __slots__ here: instances keep a __dict__)
     # Note, we always use the default ordering (lex) in __str__ and __repr__,
     # regardless of the global setting. See issue 5487.
     def __str__(self):
"""


def prepared_instance() -> Path:
    cache = Path(os.environ.get("SELFCODER_SWEBENCH_CACHE") or Path.home() / ".cache" / "selfcoder" / "swebench")
    prepared = cache / f"{ID}.jsonl"
    if not prepared.is_file():
        message = (f"the SymPy snapshot for {ID} was not fetched ({prepared} is missing): "
                   "run scripts/test, or .venv/bin/python scripts/fetch-swebench-fixture")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    try:
        find_interpreter(EnvSpec(python="3.9"))
    except EnvironmentProblem as e:
        pytest.skip(f"the official SymPy 1.7 environment needs Python 3.9: {e}")
    return prepared


def selfcoder_eval(tasks: Path, out: Path, predictions: str, sandbox_root: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, SELFCODER_SANDBOX_ROOT=str(sandbox_root), SELFCODER_CONFIG=str(out.parent / "none.toml"),
               PIP_NO_INDEX="1", PIP_FIND_LINKS=str(tasks.parent / "downloads"))
    return subprocess.run([sys.executable, "-m", "selfcoder", "eval", str(tasks), "--predictions", predictions,
                           "--out", str(out)], capture_output=True, text=True, env=env, timeout=600)


def test_the_prepared_instance_is_the_fixture_with_its_snapshot():
    """The instance graded below carries the fixture's official fields unchanged."""
    official = json.loads(FIXTURE.read_text())
    prepared = json.loads(prepared_instance().read_text())
    assert official["instance_id"] == ID and official["version"] == "1.7"
    assert json.loads(official["FAIL_TO_PASS"]) == ["test_immutable"]
    assert len(json.loads(official["PASS_TO_PASS"])) == 21
    assert {k: prepared[k] for k in official if k != "base_commit"} == {k: v for k, v in official.items()
                                                                       if k != "base_commit"}
    assert prepared["swebench_base_commit"] == official["base_commit"]
    assert prepared["environment"] == {"python": "3.9", "requirements": ["mpmath==1.3.0"]}
    assert not Path(prepared["repo_path"]).is_absolute()  # beside the instance file, as a task set's must be
    assert (prepared_instance().parent / prepared["repo_path"] / "bin" / "test").is_file()


def test_gold_resolves_with_the_official_rules_and_a_non_fix_or_empty_patch_does_not(tmp_path, sandbox_root):
    tasks = prepared_instance()
    gold = selfcoder_eval(tasks, tmp_path / "gold", "gold", sandbox_root)
    assert gold.returncode == 0, gold.stderr[-3000:]
    report = json.loads((tmp_path / "gold" / "report.json").read_text())
    assert report["resolved_ids"] == [ID], report["instances"]
    row = report["instances"][ID]
    assert row["resolution"] == "RESOLVED_FULL"
    assert row["parser"] == "swebench:sympy/sympy" and row["grading"].startswith("swebench ")  # the official code
    assert report["grading"] == [row["grading"]]
    record = json.loads((tmp_path / "gold" / "instances" / f"{ID}.json").read_text())
    status = record["grade"]["tests_status"]
    assert status["FAIL_TO_PASS"] == {"success": ["test_immutable"], "failure": []}
    assert len(status["PASS_TO_PASS"]["success"]) == 21 and status["PASS_TO_PASS"]["failure"] == []

    wrong = tmp_path / "not-a-fix.jsonl"
    wrong.write_text(json.dumps({"instance_id": ID, "model_name_or_path": "m", "model_patch": NOT_A_FIX}) + "\n")
    res = selfcoder_eval(tasks, tmp_path / "wrong", str(wrong), sandbox_root)
    assert res.returncode == 0, res.stderr[-3000:]
    report = json.loads((tmp_path / "wrong" / "report.json").read_text())
    assert report["unresolved_ids"] == [ID], report["instances"]
    record = json.loads((tmp_path / "wrong" / "instances" / f"{ID}.json").read_text())
    assert record["grade"]["tests_status"]["FAIL_TO_PASS"] == {"success": [], "failure": ["test_immutable"]}
    assert len(record["grade"]["tests_status"]["PASS_TO_PASS"]["success"]) == 21  # the tests did run

    res = selfcoder_eval(tasks, tmp_path / "empty", "empty", sandbox_root)
    assert res.returncode == 0, res.stderr[-3000:]
    report = json.loads((tmp_path / "empty" / "report.json").read_text())
    assert report["resolved_ids"] == [] and report["empty_patch_ids"] == [ID]


def test_the_fetch_script_refuses_a_file_whose_hash_is_not_the_pin(tmp_path):
    """The setup step trusts nothing it downloads: a file that is not the pinned one, a missing
    file or an index that does not answer is one line on stderr and exit 1, and no snapshot."""
    import http.server
    import threading

    served = {"/sympy/": json.dumps({"files": [{"filename": "sympy-1.7.tar.gz", "url": "/files/sympy-1.7.tar.gz"}]}),
              "/files/sympy-1.7.tar.gz": "not the real sdist", "/mpmath/": json.dumps({"files": []})}

    class Index(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the handler's API
            body = served.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            self.wfile.write((body or "").encode())

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Index)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    served["/sympy/"] = served["/sympy/"].replace('"/files/', f'"{base}/files/')
    try:
        def fetch(index: str) -> subprocess.CompletedProcess:
            env = dict(os.environ, SELFCODER_SWEBENCH_CACHE=str(tmp_path / "cache"), SELFCODER_PYPI_SIMPLE=index)
            return subprocess.run([sys.executable, str(ROOT / "scripts" / "fetch-swebench-fixture")], env=env,
                                  capture_output=True, text=True, timeout=120)

        res = fetch(base)
        assert res.returncode == 1 and "sympy-1.7.tar.gz: sha256" in res.stderr and "is not the expected" in res.stderr
        assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "cache" / "downloads" / "sympy-1.7.tar.gz").exists()
        assert not (tmp_path / "cache" / f"{ID}.jsonl").exists()
    finally:
        server.shutdown()
        server.server_close()
    res = fetch(base)  # the index is gone (connection refused)
    assert res.returncode == 1 and "cannot fetch" in res.stderr and "Traceback" not in res.stderr
