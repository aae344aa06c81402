"""The evolve search end to end with the scripted model (issue 10, item 7): real sandboxes, real
git, real grading. Both policies, staged evaluation, invalid children, the budget stop."""

from __future__ import annotations

from conftest import ADMISSION, settings_for

from selfcoder.evolve.archive import Archive
from selfcoder.evolve.search import EvolveConfig, Search
from selfcoder.core.task import load_tasks


def search(sim, archive_dir, *, modify="modify", budget=None, **cfg):
    from selfcoder.core.scaffold import SEED_DIR

    config = EvolveConfig(admission_tests=ADMISSION, **cfg)
    archive = Archive.create(archive_dir, SEED_DIR, {"search": config.to_json()})
    s = Search(archive, load_tasks(sim["tasks"]), settings_for(sim["agent"]), config,
               modify_settings=settings_for(sim[modify]), diagnosis_settings=settings_for(sim["diagnosis"]),
               budget=budget)
    return archive, s


def test_hgm_grows_a_valid_child_and_evaluates_it_by_the_hosts_grading(sim):
    """...after the root's evaluations on the whole task set finished (two workers: the second
    one waits, it does not expand the root blind), so the diagnosis gets the task the root
    failed; the child's smoke run is its first evaluation, not run again."""
    archive, s = search(sim, sim["tmp"] / "arch", policy="hgm", max_evals=4, max_nodes=2, workers=2)
    s.run()
    nodes = {n.id: n for n in archive.nodes()}
    assert set(nodes) == {"root", "n1"}, nodes
    child = nodes["n1"]
    assert child.status == "valid", child.reason
    assert child.parent == "root" and "retry a failed edit" in child.problem
    assert child.target_task == "calc_py-clamp" and "resolved every task" not in (child.diagnosis or "")
    first = [e for e in archive.evaluations() if e.node == "n1"][0]
    assert first.task == "calc_py-mean" and "/runs/expand/" in first.log_path  # the smoke run, graded
    assert not (archive.root / "runs" / "eval" / "n1" / "runs" / "calc_py-mean").exists()
    assert len(list((archive.root / "runs" / "expand").glob("*/smoke/runs/calc_py-mean"))) == 1
    assert '"evolved_note": "tried harder"' in archive.diff("n1")
    assert (archive.node_dir("n1") / "config.json").read_text().count("evolved_note") == 1
    evals = archive.evaluations()
    assert len(evals) == 4
    results = {(e.node, e.task): e.resolved for e in evals}
    assert results.get(("root", "calc_py-mean")) is True
    assert all(not r for (n, t), r in results.items() if t == "calc_py-clamp")
    archive.close()


def test_dgm_stages_evaluation_and_records_an_invalid_child(sim):
    """Small set = calc-clamp (never resolved): no node reaches the threshold, so the full set is
    never run; a child that does not compile is recorded invalid with the reason."""
    from selfcoder.evolve.search import EvolveConfig  # noqa: F401

    tasks = sim["tasks"].read_text().splitlines()
    sim["tasks"].write_text(tasks[1] + "\n" + tasks[0] + "\n")  # clamp first: it is the small set
    archive, s = search(sim, sim["tmp"] / "arch", modify="broken", policy="dgm", small=1, max_nodes=2, workers=2,
                        params={"children_per_generation": 1})
    s.run()
    nodes = {n.id: n for n in archive.nodes()}
    assert set(nodes) == {"root", "n1"}
    assert nodes["n1"].status == "invalid" and "does not compile" in nodes["n1"].reason, nodes["n1"].reason
    assert "broken.py" in archive.diff("n1")  # kept for inspection, never a parent
    evals = archive.evaluations()
    assert [(e.node, e.task, e.resolved) for e in evals] == [("root", "calc_py-clamp", False)]
    archive.close()


def test_the_budget_stops_the_search_within_the_money(sim):
    from selfcoder.llm.budget import Budget

    budget = Budget(max_tokens=10**9, max_cost_usd=0.004, max_calls=10**6)
    archive, s = search(sim, sim["tmp"] / "arch", policy="hgm", max_evals=50, workers=2, budget=budget)
    s.run()
    assert s.stop_reason, "the search should have stopped at the budget"
    assert archive.db.spend()["cost_usd"] <= 0.004
    assert len(archive.evaluations()) < 50
    archive.close()


def test_dgm_makes_a_generation_of_children_together_and_reaches_the_full_set_above_the_threshold(sim):
    """Small set = calc-mean (resolved): every node passes the threshold, so each also gets the
    full set; both children of generation 1 come from the root, started together."""
    archive, s = search(sim, sim["tmp"] / "arch", policy="dgm", small=1, max_nodes=3, workers=2,
                        params={"children_per_generation": 2})
    s.run()
    nodes = archive.nodes()
    assert [n.parent for n in nodes] == [None, "root", "root"]  # both children of generation 1 from the root
    done = {(e.node, e.task): e.resolved for e in archive.evaluations()}
    assert done == {(n, t): t == "calc_py-mean" for n in ("root", "n1", "n2") for t in ("calc_py-mean", "calc_py-clamp")}
    archive.close()
