"""`--executor` / `--ray-address` / `--max-usd` mistakes as a user makes them: one line naming the problem, no
traceback, no waiting for minutes; Ray missing is named with the install command; Ray is not
imported at all unless `--executor ray` is chosen."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RAY_MISSING = "--executor ray needs Ray: pip install 'selfcoder[ray]'"


@pytest.fixture
def tasks(tmp_path) -> Path:
    path = tmp_path / "tasks.jsonl"
    line = json.loads((FIXTURES / "tasks.jsonl").read_text().splitlines()[0])
    shutil.copytree(FIXTURES / line["repo_path"], tmp_path / line["repo_path"])  # beside the task file
    path.write_text(json.dumps(line) + "\n")
    return path


def selfcoder(tmp_path: Path, *args: str, prelude: str = "") -> subprocess.CompletedProcess:
    """The CLI entry point in a fresh interpreter; `prelude` runs first (e.g. to hide Ray)."""
    code = f"import sys\n{prelude}\nfrom selfcoder.cli import main\nsys.argv = ['selfcoder', *{list(args)!r}]\nmain()\n"
    env = dict(os.environ, SELFCODER_CONFIG=str(tmp_path / "none.toml"))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)


def one_line_error(proc: subprocess.CompletedProcess, wanted: str) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and wanted in errors[0], proc.stderr


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once it is closed


def test_an_unknown_executor_is_one_line(tmp_path, tasks):
    out = str(tmp_path / "out")
    one_line_error(selfcoder(tmp_path, "eval", str(tasks), "--predictions", "gold", "--out", out, "--executor", "nope"),
                   "--executor nope: choose one of local, ray")
    one_line_error(selfcoder(tmp_path, "evolve", "--tasks", str(tasks), "--archive", str(tmp_path / "a"),
                             "--executor", "nope"), "--executor nope: choose one of local, ray")
    one_line_error(selfcoder(tmp_path, "eval", str(tasks), "--predictions", "gold", "--out", out,
                             "--ray-address", "127.0.0.1:6379"), "--ray-address needs --executor ray")
    assert not (tmp_path / "out").exists() and not (tmp_path / "a").exists()


def test_a_max_usd_that_is_not_positive_is_the_same_line_in_every_command(tmp_path, tasks):
    archive, out = str(tmp_path / "a"), str(tmp_path / "out")
    for args in (("eval", str(tasks), "--predictions", "gold", "--out", out, "--max-usd", "0"),
                 ("evolve", "--tasks", str(tasks), "--archive", archive, "--max-usd", "-1"),
                 ("archive", "compare", "best", "seed", "--tasks", str(tasks), "--archive", archive, "--max-usd", "0")):
        one_line_error(selfcoder(tmp_path, *args), "--max-usd must be greater than 0")
    assert not (tmp_path / "out").exists() and not (tmp_path / "a").exists()


def test_an_unreachable_cluster_is_one_line_and_quick(tmp_path, tasks):
    pytest.importorskip("ray", reason="the dev extra installs ray")
    address = f"127.0.0.1:{closed_port()}"
    started = time.monotonic()
    proc = selfcoder(tmp_path, "eval", str(tasks), "--predictions", "gold", "--out", str(tmp_path / "out"),
                     "--executor", "ray", "--ray-address", address)
    one_line_error(proc, f"--ray-address {address}: no Ray cluster answers there")
    assert time.monotonic() - started < 30
    one_line_error(selfcoder(tmp_path, "eval", str(tasks), "--predictions", "gold", "--out", str(tmp_path / "out"),
                             "--executor", "ray", "--ray-address", "not-an-address"),
                   "--ray-address not-an-address: expected HOST:PORT")


def test_ray_missing_is_named_with_the_install_command(tmp_path, tasks):
    hide = "sys.modules['ray'] = None  # `import ray` now raises ImportError"
    proc = selfcoder(tmp_path, "eval", str(tasks), "--predictions", "gold", "--out", str(tmp_path / "out"),
                     "--executor", "ray", prelude=hide)
    one_line_error(proc, RAY_MISSING)
    proc = selfcoder(tmp_path, "evolve", "--tasks", str(tasks), "--archive", str(tmp_path / "a"),
                     "--executor", "ray", prelude=hide)
    one_line_error(proc, RAY_MISSING)


def test_ray_is_not_imported_unless_chosen(tmp_path):
    code = ("import sys\nimport selfcoder.cli, selfcoder.commands.eval, selfcoder.commands.evolve\n"
            "import selfcoder.eval.evaluate, selfcoder.evolve.search, selfcoder.pools\n"
            "from selfcoder.pools import make_executor\nmake_executor('local', 2).shutdown()\n"
            "print(sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stdout + proc.stderr
