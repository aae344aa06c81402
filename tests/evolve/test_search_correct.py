"""A correct search: a failed diagnosis is retried then recorded (the search goes on), admission
runs the parent's tests (a child cannot weaken them), every model call is in the spend ledger,
one notion of "best" everywhere, `compare ... seed` is the archive's root, and an archive whose
creation a kill cut off is finished or made again."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
import yaml
from conftest import DIAGNOSIS, SELF_EDIT, settings_for
from e2e_replies import search_replace
from test_search_sim import search

from selfcoder.core.errors import SelfcoderError
from selfcoder.evolve import diagnosis, step
from selfcoder.evolve.archive import Archive
from selfcoder.evolve.db import EvalRow, NodeRow
from selfcoder.core.scaffold import SEED_DIR


def script(sim, name: str, *replies) -> str:
    path = sim["tmp"] / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"replies": list(replies),
                                    "pricing": {"input_per_token": 1e-6, "output_per_token": 2e-6}}))
    return f"scripted/{path}"


def one_task(sim) -> None:
    """Only calc-mean (the root solves it): the root's evaluation is one run."""
    sim["tasks"].write_text(sim["tasks"].read_text().splitlines()[0] + "\n")


# -- a failed diagnosis -------------------------------------------------------------------------
def test_the_diagnosis_is_tried_again_after_an_empty_reply_or_a_server_error(sim):
    settings = settings_for(script(sim, "flaky", {"error": "server_error"}, "", DIAGNOSIS))
    settings.model.max_retries = 0  # the gateway's own retries spent at once
    target = diagnosis.Target(task=None, kind="explore", log="...")
    problem, usage = diagnosis.diagnose(target, None, settings, sim["tmp"] / "d1", None)
    assert problem == DIAGNOSIS and usage["calls"] == 3
    empty = settings_for(script(sim, "empty", "", "", ""))
    with pytest.raises(diagnosis.DiagnosisFailed, match="after 3 attempts: the diagnosis model gave an empty reply") as e:
        diagnosis.diagnose(target, None, empty, sim["tmp"] / "d2", None)
    assert e.value.usage["calls"] == 3 and e.value.usage["cost_usd"] > 0


def test_a_diagnosis_that_keeps_failing_is_a_failed_row_and_the_search_goes_on(sim):
    one_task(sim)
    sim["empty"] = script(sim, "empty", "", "", "")
    config = dict(policy="hgm", max_evals=5, max_nodes=3, workers=1)
    archive, s = search(sim, sim["tmp"] / "arch", **config)
    s.diagnosis_settings = settings_for(sim["empty"])
    s.run()
    assert s.stop_reason == ""  # it reached its limit; nothing "interrupted by the user"
    nodes = archive.nodes()
    assert [(n.id, n.parent, n.status) for n in nodes] == [("root", None, "valid"), ("n1", "root", "failed"),
                                                           ("n2", "root", "failed")]
    for n in nodes[1:]:
        assert "diagnosis failed after 3 attempts" in n.reason and n.cost_usd > 0, n
    ledger = [r for r in archive.db.ledger() if r["kind"] == "diagnosis"]
    assert len(ledger) == 6 and round(sum(r["cost_usd"] for r in ledger), 9) == round(sum(n.cost_usd for n in nodes), 9)
    archive.close()


# -- admission runs the parent's tests ----------------------------------------------------------
GUARD = ("import json\nimport pathlib\n\n\ndef test_retries_stay_two():\n"
         "    assert json.loads((pathlib.Path(__file__).parents[1] / 'config.json').read_text())['retries'] == 2\n")


def test_restore_parent_tests_puts_back_removed_and_weakened_tests_and_keeps_new_ones(tmp_path):
    parent, child = tmp_path / "parent", tmp_path / "child"
    for root in (parent, child):
        (root / "tests").mkdir(parents=True)
        (root / "main.py").write_text("print('hi')\n")
    (parent / "tests" / "test_a.py").write_text("def test_a():\n    assert 1 + 1 == 2\n")
    (parent / "tests" / "test_b.py").write_text("def test_b():\n    assert 'b'\n")
    (parent / "tests" / "conftest.py").write_text("")
    (child / "tests" / "test_b.py").write_text("def test_b():\n    assert True\n")  # weakened
    (child / "tests" / "conftest.py").write_text("import pytest\n")  # a hook into the run
    (child / "tests" / "test_new.py").write_text("def test_new():\n    assert 2\n")  # a new test: stays
    (child / "conftest.py").write_text("def pytest_runtest_makereport(): pass\n")  # new config: removed
    (child / "main.py").write_text("print('changed')\n")  # not a test: the child's
    changed = step.restore_parent_tests(parent, child, "python3 -m pytest -q tests")
    assert changed == ["conftest.py (removed)", "tests/conftest.py (restored)", "tests/test_a.py (put back)",
                       "tests/test_b.py (restored)"]
    for name in ("test_a.py", "test_b.py", "conftest.py"):
        assert (child / "tests" / name).read_text() == (parent / "tests" / name).read_text()
    assert (child / "tests" / "test_new.py").is_file() and not (child / "conftest.py").exists()
    assert (child / "main.py").read_text() == "print('changed')\n"


def test_a_child_that_weakens_its_parents_tests_is_not_admitted(sim):
    """The seed's guard test checks config.json; the child breaks that and rewrites the test to
    `assert True`: admission runs the parent's test, so the child is invalid."""
    one_task(sim)
    seed = sim["tmp"] / "seed"
    shutil.copytree(SEED_DIR, seed, ignore=shutil.ignore_patterns("__pycache__"))
    (seed / "tests" / "test_guard.py").write_text(GUARD)
    cheat = (search_replace("config.json", '  "retries": 2,', '  "retries": 3,')
             + "\ntests/test_guard.py\n```python\ndef test_retries_stay_two():\n    assert True\n```\n\nSUBMIT\n")
    from selfcoder.evolve.search import EvolveConfig, Search
    from selfcoder.core.task import load_tasks

    config = EvolveConfig(admission_tests="python3 -m pytest -q -p no:cacheprovider tests/test_guard.py",
                          policy="hgm", max_evals=3, max_nodes=2, workers=1)
    archive = Archive.create(sim["tmp"] / "arch", seed, {"search": config.to_json()})
    s = Search(archive, load_tasks(sim["tasks"]), settings_for(sim["agent"]), config,
               modify_settings=settings_for(script(sim, "cheat", cheat, "SUBMIT")),
               diagnosis_settings=settings_for(sim["diagnosis"]))
    s.run()
    child = archive.node("n1")
    assert child.status == "invalid" and "the parent's tests fail" in child.reason, child.reason
    assert "retries_stay_two" in child.reason
    origin = json.loads((archive.root / "runs" / "expand").glob("*/origin.json").__next__().read_text())
    assert origin["restored_tests"] == ["tests/test_guard.py (restored)"]
    assert (archive.node_dir("n1") / "tests" / "test_guard.py").read_text() == GUARD  # what ran is what is kept
    archive.close()


# -- the spend ledger ---------------------------------------------------------------------------
def test_each_call_is_in_the_ledger_when_the_caller_gets_its_reply(sim):
    from selfcoder.evolve.ledger import LedgerBudget
    from selfcoder.llm import Gateway
    from selfcoder.llm.budget import Budget

    archive = Archive.create(sim["tmp"] / "arch", SEED_DIR, {"search": {}})
    settings = settings_for(sim["diagnosis"])
    ledger = LedgerBudget(archive, "expand/x", "diagnosis", node="root")
    gateway = Gateway(settings, run_id="t", budget=Budget.from_settings(settings.budget, parent=ledger))
    reply = gateway.complete([{"role": "user", "content": "hello"}])
    gateway.close()
    rows = archive.db.ledger()
    assert [(r["job"], r["kind"], r["node"]) for r in rows] == [("expand/x", "diagnosis", "root")]
    assert rows[0]["cost_usd"] == pytest.approx(reply.usage.cost_usd) and rows[0]["tokens"] == reply.usage.total_tokens
    spent = archive.db.spend()  # no node or evaluation holds it: work a kill would have cut off
    assert spent["cost_usd"] == pytest.approx(reply.usage.cost_usd) and spent["lost_cost_usd"] == spent["cost_usd"]
    archive.close()


# -- one notion of best -------------------------------------------------------------------------
def row(node_id: str, seq: int, status: str = "valid") -> NodeRow:
    return NodeRow(id=node_id, seq=seq, parent=None if seq == 0 else "root", created=0.0, commit_sha="", status=status)


def test_best_is_the_wilson_lower_bound_on_the_search_tasks_ties_to_the_older_node():
    from selfcoder.evolve.stats import best_node

    nodes = [row("root", 0), row("n1", 1), row("n2", 2), row("n10", 10), row("n3", 3, "invalid")]
    evals = ([EvalRow("root", t, r) for t, r in zip("abcd", (True, True, True, False))]
             + [EvalRow("n1", "a", True), EvalRow("n10", "a", True)]  # 1 of 1: mean 1.0, lower bound 0.21
             + [EvalRow("n2", "zz", True)] * 3  # a task outside the search's set: not counted
             + [EvalRow("n3", t, True) for t in "abcd"])  # invalid: never best
    assert best_node(nodes, evals, list("abcd")) == ("root", pytest.approx(0.3006, abs=1e-4))
    # equal results: the older node, in numeric order (n1 before n10, though "n10" > "n1" as strings)
    assert best_node(nodes[1:4], evals, list("abcd"))[0] == "n1"
    assert best_node([row("n10", 10), row("n9", 9)], [EvalRow("n10", "a", True), EvalRow("n9", "a", True)])[0] == "n9"
    assert best_node(nodes, [], list("abcd")) == (None, None)


def test_search_archive_best_lineage_and_compare_name_the_same_best(sim):
    from selfcoder.commands.archive import best_node as archive_best
    from selfcoder.evolve.compare import resolve_side
    from selfcoder.evolve.lineage import render_svg
    from selfcoder.evolve.search import EvolveConfig, Search
    from selfcoder.core.task import load_tasks

    tasks = load_tasks(sim["tasks"])
    ids = [t.instance_id for t in tasks]
    archive = Archive.create(sim["tmp"] / "arch", SEED_DIR, {"search": {}},
                             tasks={"file": str(sim["tasks"]), "digest": "x", "ids": {i: "x" for i in ids}})
    archive.add_node(SEED_DIR, parent="root", status="valid")
    archive.record_evaluation(EvalRow("root", ids[0], True))
    archive.record_evaluation(EvalRow("root", ids[1], True))
    archive.record_evaluation(EvalRow("n1", ids[0], True))  # 1/1: the raw mean ties root's 2/2; fewer results
    archive.record_evaluation(EvalRow("n1", "elsewhere", True))  # not in the search's task set
    search = Search(archive, tasks, settings_for(sim["agent"]), EvolveConfig())
    assert search.best()[0] == archive_best(archive) == archive.best()[0] == "root"
    assert resolve_side(archive, "best").scaffold == archive.node_dir("root")
    svg = render_svg(archive.nodes(), archive.evaluations(), "root", archive.task_ids)
    assert ">2/2<" in svg and ">1/1<" in svg  # n1's evaluation outside the task set is not shown either
    archive.close()


def test_compare_seed_is_the_archives_root_not_the_shipped_seed(tmp_path):
    from selfcoder.evolve.compare import resolve_side

    seed = tmp_path / "my-seed"
    shutil.copytree(SEED_DIR, seed, ignore=shutil.ignore_patterns("__pycache__"))
    (seed / "MINE.txt").write_text("this archive's root\n")
    archive = Archive.create(tmp_path / "arch", seed, {"search": {}})
    side = resolve_side(archive, "seed")
    assert side.scaffold == archive.node_dir("root") and (side.scaffold / "MINE.txt").is_file()
    archive.close()


# -- archive creation ---------------------------------------------------------------------------
def cut_off_creation(root, monkeypatch) -> None:
    """Leave on disk what a kill between the config rows and the root row leaves (the kill test in
    test_evolve_cli.py does it with a real kill -9; here the root row's write raises instead)."""
    class Killed(BaseException):
        pass

    def killed(self, *args, **kwargs):
        raise Killed()

    with monkeypatch.context() as m:
        m.setattr(Archive, "_add_node", killed)
        with pytest.raises(Killed):
            Archive.create(root, SEED_DIR, {"search": {"policy": "dgm"}})


def test_an_archive_whose_creation_was_cut_off_is_finished_on_open_and_made_again_by_create(tmp_path, monkeypatch):
    first, second = tmp_path / "a", tmp_path / "b"
    for root in (first, second):
        cut_off_creation(root, monkeypatch)
    reader = Archive(first, lock=False)  # a reader changes nothing
    assert reader.nodes() == []
    reader.close()
    archive = Archive(first)  # what --resume opens: the root is added from the stored seed
    assert [n.id for n in archive.nodes()] == ["root"] and archive.config == {"search": {"policy": "dgm"}}
    assert (archive.node_dir("root") / "main.py").is_file()
    archive.close()
    archive = Archive.create(second, SEED_DIR, {"search": {"policy": "hgm"}})  # not "already an archive"
    assert [n.id for n in archive.nodes()] == ["root"] and archive.config == {"search": {"policy": "hgm"}}
    archive.close()
    with pytest.raises(SelfcoderError, match="already an archive"):
        Archive.create(second, SEED_DIR, {"search": {}})
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("a user's file")
    with pytest.raises(SelfcoderError, match="not empty"):
        Archive.create(tmp_path / "mine", SEED_DIR, {"search": {}})
    assert (tmp_path / "mine" / "notes.txt").read_text() == "a user's file"



# -- the self-modification's time -----------------------------------------------------------------
def test_the_self_modification_time_and_the_diagnosis_view_are_the_archives_and_reach_only_their_part(sim):
    """On 2 cores a scaffold's first prompt takes about a minute: the 120 s of an evaluation left a
    parent no time to edit its own code. `--modify-time-limit` is stored in the archive (a resume
    keeps it) and given to the self-modification run only. The diagnosis view is fixed with the
    archive (a resume with another is refused, a bad one is a one-line error)."""
    from selfcoder.evolve.search import EvolveConfig, Search
    from selfcoder.evolve.start import open_search
    from selfcoder.core.task import load_tasks

    def opened(resume: bool, **options):
        return open_search(sim["tmp"] / "arch", resume=resume, tasks_file=sim["tasks"], options=options, scope=None,
                           models={}, seed=None, max_usd=None, repos_root=None)

    with pytest.raises(SelfcoderError, match="--diagnosis-view everything: choose full or focused"):
        opened(False, diagnosis_view="everything")
    start = opened(False, modify_time_limit_s=600.0, diagnosis_view="focused")
    start.archive.close()
    with pytest.raises(SelfcoderError, match="diagnosis view is focused, not full"):
        opened(True, diagnosis_view="full")
    start = opened(True)
    try:
        assert start.config.modify_time_limit_s == 600.0 and start.config.diagnosis_view == "focused"
        s = Search(start.archive, load_tasks(sim["tasks"]), settings_for(sim["agent"]), start.config)
        assert s.modify_settings.agent.time_limit_s == 600.0 and s.settings.agent.time_limit_s == 120
        assert s.diagnosis_settings.agent.time_limit_s == 120
    finally:
        start.archive.close()
    # a bad value stored in an archive (it is data) is a one-line error on resume
    db = sqlite3.connect(sim["tmp"] / "arch" / "archive.db")
    row = db.execute("SELECT value FROM meta WHERE key = 'config'").fetchone()
    bad = json.loads(row[0])
    bad["search"]["modify_time_limit_s"] = "forever"
    db.execute("UPDATE meta SET value = ? WHERE key = 'config'", (json.dumps(bad),))
    db.commit()
    db.close()
    with pytest.raises(SelfcoderError, match="modify_time_limit_s 'forever': give a number of seconds"):
        opened(True)
    default = Search(Archive.create(sim["tmp"] / "plain", SEED_DIR, {"search": {}}), load_tasks(sim["tasks"]),
                     settings_for(sim["agent"]), EvolveConfig())
    try:
        assert default.modify_settings.agent.time_limit_s == 120
    finally:
        default.archive.close()


# -- the parent's reproduction test -------------------------------------------------------------
REPRO = ("test_reproduce_issue.py\n```python\nimport json\n\n\ndef test_the_note_is_there():\n"
         "    assert json.load(open('config.json')).get('evolved_note') == 'tried harder'\n```\n")


@pytest.mark.parametrize("replies, status, reason", [
    ((REPRO, SELF_EDIT), "valid", None),
    ((REPRO, "SUBMIT", "SUBMIT"), "invalid", "changed nothing but its own reproduction test (test_reproduce_issue.py)"),
])
def test_the_parents_own_reproduction_test_is_not_part_of_the_child(sim, replies, status, reason):
    """The parent's run on its own code is a run like any other: the seed's reproduce-first step
    writes test_reproduce_issue.py at the top of the checkout. Under --scope policies that file
    made every such child invalid ("outside --scope"); it is the run's note, not the child."""
    one_task(sim)
    sim["repro"] = script(sim, "repro", *replies)
    archive, s = search(sim, sim["tmp"] / "arch", modify="repro", policy="hgm", max_evals=3, max_nodes=2, workers=1,
                        scope="policies")
    s.run()
    child = archive.node("n1")
    assert child.status == status and (reason is None or reason in child.reason), child.reason
    assert not (archive.node_dir("n1") / "test_reproduce_issue.py").exists()
    if status == "valid":
        assert '"evolved_note": "tried harder"' in (archive.node_dir("n1") / "config.json").read_text()
        origin = json.loads(next((archive.root / "runs" / "expand").glob("*/origin.json")).read_text())
        assert origin["dropped_reproduction_tests"] == ["test_reproduce_issue.py"]
    archive.close()
