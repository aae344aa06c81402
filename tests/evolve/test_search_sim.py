"""The evolve search end to end with the scripted model (issue 10, item 7): real sandboxes, real
git, real grading. Both policies, staged evaluation, invalid children, the budget stop."""

from __future__ import annotations

from conftest import ADMISSION, settings_for

from selfcoder.evolve.archive import Archive
from selfcoder.evolve.search import EvolveConfig, Search
from selfcoder.task import load_tasks


def search(sim, archive_dir, *, modify="modify", budget=None, **cfg):
    from selfcoder.scaffold import SEED_DIR

    config = EvolveConfig(admission_tests=ADMISSION, **cfg)
    archive = Archive.create(archive_dir, SEED_DIR, {"search": config.to_json()})
    s = Search(archive, load_tasks(sim["tasks"]), settings_for(sim["agent"]), config,
               modify_settings=settings_for(sim[modify]), diagnosis_settings=settings_for(sim["diagnosis"]),
               budget=budget)
    return archive, s


def test_hgm_grows_a_valid_child_and_evaluates_it_by_the_hosts_grading(sim):
    archive, s = search(sim, sim["tmp"] / "arch", policy="hgm", max_evals=4, max_nodes=2, workers=2)
    s.run()
    nodes = {n.id: n for n in archive.nodes()}
    assert set(nodes) == {"root", "n1"}, nodes
    child = nodes["n1"]
    assert child.status == "valid", child.reason
    assert child.parent == "root" and "retry a failed edit" in child.problem
    assert '"evolved_note": "tried harder"' in archive.diff("n1")
    assert (archive.node_dir("n1") / "config.json").read_text().count("evolved_note") == 1
    evals = archive.evaluations()
    assert len(evals) == 4
    results = {(e.node, e.task): e.resolved for e in evals}
    assert results.get(("root", "calc_py-mean")) is True
    assert all(not r for (n, t), r in results.items() if t == "calc_py-clamp")
    archive.close()
