"""A repository that commits `.selfcoder` (or `.selfcoder/runs`, or `.selfcoder/.gitignore`) as a
symlink would move every run's task, patch, trajectory and result, or selfcoder's own writes,
wherever the link points (security round 3, finding 7a): `selfcoder solve` refuses with one line
and exit 2, and writes nothing through the link."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from e2e_replies import CALC_FIX, CALC_PROBLEM


def commit_all(repo) -> None:
    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True,
                       capture_output=True)  # fmt: skip

    git("init", "-q")
    git("add", "-A")
    git("commit", "-q", "-m", "hostile")
    assert subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True).stdout == ""


@pytest.mark.parametrize("link", [".selfcoder", ".selfcoder/runs", ".selfcoder/.gitignore"])
def test_solve_refuses_a_runs_dir_reached_through_a_committed_symlink(link, repo_copy, script, sandbox_root, tmp_path):
    repo = repo_copy("calc_py")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "victim" if link.endswith(".gitignore") else elsewhere  # a dangling link is created through
    (repo / link).parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, repo / link)
    commit_all(repo)
    env = {**os.environ, "SELFCODER_CONFIG": str(tmp_path / "none.toml"), "SELFCODER_SANDBOX_ROOT": str(sandbox_root)}
    proc = subprocess.run([sys.executable, "-m", "selfcoder.cli", "solve", str(repo), "-p", CALC_PROBLEM, "--json",
                           "--model", script(CALC_FIX)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0] == (f"error: {repo / link} is a symlink: refusing to keep runs "
                        + ("beside it (remove it)" if link.endswith(".gitignore") else
                           f"there (the runs dir must be a real directory inside {repo}; remove it or set run.runs_dir)"))
    assert list(elsewhere.iterdir()) == []  # nothing was written through the link
    assert os.readlink(repo / link) == str(target)  # the link itself is left alone


def test_a_runs_dir_that_is_a_file_is_refused_in_one_line(repo_copy, script, sandbox_root, tmp_path):
    repo = repo_copy("calc_py")
    (repo / ".selfcoder").write_text("not a directory\n")
    env = {**os.environ, "SELFCODER_CONFIG": str(tmp_path / "none.toml"), "SELFCODER_SANDBOX_ROOT": str(sandbox_root)}
    proc = subprocess.run([sys.executable, "-m", "selfcoder.cli", "solve", str(repo), "-p", CALC_PROBLEM,
                           "--model", script(CALC_FIX)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert proc.returncode == 2 and proc.stderr.startswith(f"error: {repo / '.selfcoder'} is not a directory:")
    assert len(proc.stderr.strip().splitlines()) == 1
