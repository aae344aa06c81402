"""`selfcoder evolve` and `selfcoder archive` as a user runs them: kill -9 at random moments,
--resume, and the archive stays whole (no lost or duplicated evaluation, no half-written node)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from conftest import ADMISSION

from selfcoder.evolve.archive import Archive

MAX_EVALS = 5


def evolve(sim, archive: Path, *extra: str) -> subprocess.Popen:
    argv = [sys.executable, "-m", "selfcoder", "evolve", "--tasks", str(sim["tasks"]), "--archive", str(archive),
            "--policy", "hgm", "--workers", "2", "--max-evals", str(MAX_EVALS), "--max-nodes", "3",
            "--model", sim["agent"], "--diagnosis-model", sim["diagnosis"], "--modify-model", sim["modify"],
            "--admission-tests", ADMISSION, *extra]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)


def check_whole(archive_dir: Path) -> None:
    """Every node row has its tag and its files; no tag or node dir without a row; no duplicate."""
    a = Archive(archive_dir)  # takes the lock and removes what a kill left, as --resume does
    try:
        ids = {n.id for n in a.nodes()}
        assert {t.name for t in a.repo.tags} == ids
        assert {p.name for p in (archive_dir / "nodes").iterdir()} == ids
        for n in a.nodes():
            assert a.repo.commit(n.id).hexsha == n.commit_sha
            assert (archive_dir / "nodes" / n.id / "main.py").is_file()
        pairs = [(e.node, e.task) for e in a.evaluations()]
        assert len(pairs) == len(set(pairs))
        assert set(p[0] for p in pairs) <= ids
    finally:
        a.close()


def test_kill_9_at_random_moments_then_resume_loses_and_duplicates_nothing(sim, monkeypatch, sandbox_root):
    """...and `selfcoder sandbox gc` then removes what the killed runs left (their run I/O
    directories and sandboxes), so a user's /tmp does not fill up with them."""
    tmp = Path(tempfile.mkdtemp(prefix="sc-evolve-tmp-"))  # short: the gateway's unix socket lives in it
    tmp.chmod(0o755)
    monkeypatch.setenv("TMPDIR", str(tmp))
    archive = sim["tmp"] / "arch"
    rng = random.Random(os.getpid())
    proc = evolve(sim, archive)
    for _ in range(3):
        time.sleep(rng.uniform(1.5, 6.0))
        if proc.poll() is not None:
            break
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        check_whole(archive)
        proc = evolve(sim, archive, "--resume")
    out, _ = proc.communicate(timeout=240)
    assert proc.returncode == 0, out.decode()
    check_whole(archive)
    conn = sqlite3.connect(archive / "archive.db")
    assert conn.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0] == MAX_EVALS
    assert conn.execute("SELECT COUNT(*) FROM evaluations WHERE node='root' AND task='calc_py-mean' AND resolved=1"
                        ).fetchone()[0] == 1
    gc = subprocess.run([sys.executable, "-m", "selfcoder", "sandbox", "gc"], capture_output=True, text=True,
                        timeout=120)
    assert gc.returncode == 0, gc.stderr
    assert not list(tmp.glob("selfcoder-io-*")) and not list(sandbox_root.iterdir()), gc.stdout
    shutil.rmtree(tmp, ignore_errors=True)


def test_archive_commands_show_the_search(sim, tmp_path):
    archive = sim["tmp"] / "arch"
    out, _ = evolve(sim, archive, "--max-usd", "5").communicate(timeout=240)
    assert b"done:" in out, out.decode()

    def cli(*args: str) -> str:
        proc = subprocess.run([sys.executable, "-m", "selfcoder", "archive", *args, "--archive", str(archive)],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    assert "root" in cli("list") and "valid" in cli("list")
    best = cli("best").strip()
    assert best in {"root", "n1", "n2"}
    assert "calc_py-mean" in cli("show", "root")
    assert "evolved_note" in cli("diff", "n1")
    cli("export", "n1", str(tmp_path / "exported"))
    assert "evolved_note" in (tmp_path / "exported" / "config.json").read_text()
    cli("lineage", "--out", str(tmp_path / "tree.svg"))
    svg = (tmp_path / "tree.svg").read_text()
    assert svg.startswith("<svg") and 'id="node-root"' in svg and 'id="node-n1"' in svg
    # an archive node serves as an agent anywhere a scaffold is named
    from selfcoder.scaffold import resolve_scaffold

    assert resolve_scaffold(f"{archive}/n1") == (archive / "nodes" / "n1").resolve()
