"""The README's offline evolve example (examples/evolve-offline/README.md), run as a newcomer runs
it: its commands exactly as written there, a `kill -9` in the middle of the search, `--resume`,
the node list and the lineage picture."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

from waiting import exited, wait_until

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "evolve-offline"


def readme_commands() -> list[list[str]]:
    block = re.search(r"```sh\n(.*?)```", (EXAMPLE / "README.md").read_text(), re.S).group(1)
    joined = block.replace("\\\n", " ")
    return [shlex.split(line) for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_the_offline_example_runs_is_killed_resumes_and_draws_its_lineage(tmp_path, sandbox_root):
    commands = readme_commands()
    assert [c[:2] for c in commands] == [["selfcoder", "evolve"], ["selfcoder", "evolve"], ["selfcoder", "archive"],
                                          ["selfcoder", "archive"]]
    shutil.copytree(EXAMPLE, tmp_path / "examples" / "evolve-offline",
                    ignore=shutil.ignore_patterns("runs", "*.sent.jsonl"))
    env = dict(os.environ, SELFCODER_CONFIG=str(tmp_path / "no-user-config.toml"))

    def argv(command: list[str]) -> list[str]:
        return [sys.executable, "-m", "selfcoder", *command[1:]]

    first = subprocess.Popen(argv(commands[0]), cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, start_new_session=True)
    db = tmp_path / "examples" / "evolve-offline" / "runs" / "arch" / "archive.db"

    def evaluated() -> bool:  # the kill comes mid-search: after the first recorded evaluation
        try:
            with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)) as conn:
                return conn.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0] >= 1
        except sqlite3.Error:  # not created yet, or mid-write
            return False

    wait_until(evaluated, 240, "the first evaluation was never recorded", gave_up=exited(first))
    assert first.poll() is None, "the search ended before the kill: nothing was resumed"
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    for command in commands[1:]:
        res = subprocess.run(argv(command), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, (command, res.stdout, res.stderr)
        if command[:3] == ["selfcoder", "archive", "list"]:
            assert "root" in res.stdout and "n1" in res.stdout, res.stdout
    # the diagnosis read the root's own failure on calc-clamp, as the README says
    prompts = [json.loads(line)["messages"][-1]["content"] for path in sorted(
        (tmp_path / "examples" / "evolve-offline" / "runs" / "arch" / "runs" / "expand").glob("*/diagnosis/diagnosis.jsonl"))
        for line in path.read_text().splitlines() if '"llm_request"' in line]
    assert prompts and all("TestClamp.test_outside" in p and "assert 15 == 10" in p and "[step 1" in p for p in prompts)
    png = tmp_path / "examples" / "evolve-offline" / "runs" / "tree.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 3000
