"""`selfcoder evolve` and `selfcoder archive` as a user runs them: kill -9 at each moment that matters
(archive creation, evaluation, result recording, diagnosis, the child's run, admission, the node's
row), --resume, and the same archive as a search never killed: the same nodes, evaluations and
spend, the killed work's spend in the ledger, its logs kept, no leftovers without a manual gc."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from conftest import ADMISSION
from waiting import exited, wait_until

from selfcoder.evolve.archive import Archive
from selfcoder.core.scaffold import SEED_DIR

KILLPOINT = Path(__file__).resolve().parent / "killpoint.py"
# one worker: the search's decisions are then a function of the archive's state alone
SEARCH = ("--policy", "hgm", "--workers", "1", "--max-evals", "4", "--max-nodes", "2", "--max-usd", "5")


def evolve_argv(sim, archive: Path, *extra: str) -> list[str]:
    return ["evolve", "--tasks", str(sim["tasks"]), "--archive", str(archive), *SEARCH,
            "--model", sim["agent"], "--diagnosis-model", sim["diagnosis"], "--modify-model", sim["modify"],
            "--admission-tests", ADMISSION, *extra]


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


def summary(archive_dir: Path) -> dict:
    """What must come out the same, killed or not: nodes, evaluations, and what each cost."""
    conn = sqlite3.connect(archive_dir / "archive.db")
    try:
        nodes = conn.execute("SELECT id, parent, status, reason, target_task, problem, tokens, round(cost_usd, 9)"
                             " FROM nodes ORDER BY seq").fetchall()
        evals = conn.execute("SELECT node, task, resolved, outcome, tokens, round(cost_usd, 9) FROM evaluations"
                             " ORDER BY seq").fetchall()
    finally:
        conn.close()
    return {"nodes": nodes, "evaluations": evals}


def spend(archive_dir: Path) -> dict:
    a = Archive(archive_dir, lock=False)
    try:
        return a.db.spend()
    finally:
        a.close()


def test_kill_9_at_each_moment_then_resume_gives_the_archive_of_a_search_never_killed(sim, monkeypatch, sandbox_root):
    tmp = Path(tempfile.mkdtemp(prefix="sc-evolve-tmp-"))  # short: the gateway's unix socket lives in it
    tmp.chmod(0o755)
    monkeypatch.setenv("TMPDIR", str(tmp))
    env = dict(os.environ)

    def selfcoder(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "selfcoder", *argv], capture_output=True, text=True,
                              timeout=300, env=env)

    reference = sim["tmp"] / "ref"
    done = selfcoder(*evolve_argv(sim, reference))
    assert done.returncode == 0 and "done:" in done.stderr, done.stderr
    expected = summary(reference)
    # the root was evaluated on the whole task set before anything was expanded; the child's
    # diagnosis got a task it failed, and its smoke run is its first evaluation (not run again)
    assert [n[:3] for n in expected["nodes"]] == [("root", None, "valid"), ("n1", "root", "valid")], expected
    assert expected["nodes"][1][4] == "calc_py-clamp"
    assert [e[:3] for e in expected["evaluations"]] == [("root", "calc_py-mean", 1), ("root", "calc_py-clamp", 0),
                                                        ("n1", "calc_py-mean", 1), ("n1", "calc_py-clamp", 0)]
    assert not (reference / "runs" / "eval" / "n1" / "runs" / "calc_py-mean").exists()

    archive = sim["tmp"] / "arch"
    points = ["create", "evaluation", "recording", "diagnosis", "child", "admission", "node"]
    for point in points:
        marker = sim["tmp"] / f"at-{point}"
        argv = evolve_argv(sim, archive) if point == "create" else ["evolve", "--archive", str(archive), "--resume"]
        proc = subprocess.Popen([sys.executable, str(KILLPOINT), point, str(marker), *argv], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(marker.exists, 240, f"the search never reached {point}", gave_up=exited(proc),
                   detail=lambda p=proc: p.stdout.read().decode() if p.poll() is not None else "")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        output = proc.stdout.read().decode()
        proc.stdout.close()
        if point in ("recording", "admission"):  # the kills before left live sandboxes: --resume removed them
            assert "removed what killed runs left" in output, output
        if point == "create":  # an archive whose creation was cut off: no root yet; a new create makes it again
            assert summary(archive)["nodes"] == []
            again = sim["tmp"] / "again"
            shutil.copytree(archive, again)
            Archive.create(again, Path(SEED_DIR), {"search": {}}).close()
            assert [n[0] for n in summary(again)["nodes"]] == ["root"]
        if point == "recording":  # the run the kill at "evaluation" cut off is kept beside its rerun
            killed = archive / "runs" / "eval" / "root" / "runs" / "calc_py-mean.killed-1"
            assert (killed / "trajectory.jsonl").is_file(), sorted((killed.parent).iterdir())
    assert spend(archive)["lost_cost_usd"] > 0  # the killed calls are in the ledger
    done = selfcoder("evolve", "--archive", str(archive), "--resume")
    assert done.returncode == 0 and "done:" in done.stderr, done.stderr
    check_whole(archive)
    assert summary(archive) == expected
    got, want = spend(archive), spend(reference)
    assert got["kept_cost_usd"] == want["kept_cost_usd"] and want["lost_cost_usd"] == 0
    assert got["cost_usd"] > want["cost_usd"]  # the killed work was paid for: --max-usd counts it
    # no leftovers, and no manual `selfcoder sandbox gc`: --resume removed what the kills left
    assert not list(tmp.glob("selfcoder-io-*")) and not list(sandbox_root.iterdir())
    # --max-usd counts the ledger: the killed work's spend too
    short = selfcoder("evolve", "--archive", str(archive), "--resume", "--max-usd", str(want["cost_usd"]))
    assert short.returncode != 0 and "already spent" in short.stderr, short.stderr
    # a changed task set is refused, naming what changed
    lines = sim["tasks"].read_text().splitlines()
    clamp = json.loads(lines[1])
    clamp["problem_statement"] += " Really."
    extra = dict(clamp, instance_id="calc_py-extra")
    sim["tasks"].write_text("\n".join([lines[0], json.dumps(clamp), json.dumps(extra)]) + "\n")
    changed = selfcoder("evolve", "--archive", str(reference), "--resume", "--max-evals", "9")
    message = " ".join(changed.stderr.split())
    assert changed.returncode != 0 and "1 added (calc_py-extra); 1 changed (calc_py-clamp)" in message, message
    assert summary(reference) == expected

    def archive_cli(*args: str) -> str:
        proc = selfcoder("archive", *args, "--archive", str(reference))
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    listing = archive_cli("list")
    assert "root" in listing and "valid" in listing and "1/2" in listing
    best = archive_cli("best").strip()
    assert best == "root"  # 1 of 2 each: the older node (95 % lower bounds 0.09 both)
    assert "calc_py-mean" in archive_cli("show", "root")
    assert "evolved_note" in archive_cli("diff", "n1")
    archive_cli("export", "n1", str(sim["tmp"] / "exported"))
    assert "evolved_note" in (sim["tmp"] / "exported" / "config.json").read_text()
    archive_cli("lineage", "--out", str(sim["tmp"] / "tree.svg"))
    svg = (sim["tmp"] / "tree.svg").read_text()
    assert svg.startswith("<svg") and 'id="node-root"' in svg and 'id="node-n1"' in svg
    # an archive node serves as an agent anywhere a scaffold is named
    from selfcoder.core.scaffold import resolve_scaffold

    assert resolve_scaffold(f"{reference}/n1") == (reference / "nodes" / "n1").resolve()
    shutil.rmtree(tmp, ignore_errors=True)


def test_resume_of_an_archive_naming_a_hostile_task_file_runs_nothing_on_the_host(sim, sandbox_root):
    """An archive is data: `--resume` loads the task file it names like `selfcoder eval` does, so a
    task environment whose interpreter is a script and whose requirement is a package directory
    (its setup.py would run at install) is refused, the evaluation an error naming why; nothing ran."""
    import json

    from selfcoder.evolve.search import EvolveConfig
    from selfcoder.core.scaffold import resolve_scaffold

    tmp = sim["tmp"]
    marker = tmp / "MARKER"
    dump = tmp / "dump"
    shutil.copytree(Path(__file__).resolve().parents[1] / "fixtures" / "repos" / "calc_py", dump / "repo")
    evil = dump / "python3"
    evil.write_text(f"#!/bin/sh\ntouch {marker}\nexec /usr/bin/python3 \"$@\"\n")
    evil.chmod(0o755)
    (dump / "pkg").mkdir()
    (dump / "pkg" / "setup.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    task = json.loads(sim["tasks"].read_text().splitlines()[0])
    hostile = []
    for name, environment in (("interpreter", {"python": "%d.%d" % sys.version_info[:2], "interpreter": str(evil)}),
                              ("requirement", {"requirements": ["--no-build-isolation", str(dump / "pkg")]})):
        hostile.append(dict(task, instance_id=name, repo_path="repo", environment=environment))
    tasks = dump / "tasks.jsonl"
    tasks.write_text("".join(json.dumps(t) + "\n" for t in hostile))
    archive_dir = tmp / "arch"
    models = {"model": sim["agent"], "diagnosis": sim["diagnosis"], "modify": sim["modify"]}
    Archive.create(archive_dir, resolve_scaffold("seed"), {
        "search": EvolveConfig(policy="dgm", admission_tests=ADMISSION).to_json(),
        "run": {"tasks": str(tasks), "models": models, "max_usd": None}}).close()
    proc = subprocess.run([sys.executable, "-m", "selfcoder", "evolve", "--archive", str(archive_dir), "--resume",
                           "--max-evals", "2", "--max-nodes", "1"], capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert not marker.exists(), "the archive's task file ran code on the host"
    archive = Archive(archive_dir)
    try:
        rows = {e.task: e for e in archive.evaluations()}
    finally:
        archive.close()
    assert set(rows) == {"interpreter", "requirement"} and all(r.outcome == "error" for r in rows.values())
    for name in rows:
        record = json.loads((archive_dir / "runs" / "eval" / "root" / "instances" / f"{name}.json").read_text())
        assert "refused" in record["message"], record["message"]
