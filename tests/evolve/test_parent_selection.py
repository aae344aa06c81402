"""The policies as pure functions with a seeded RNG (issue 10, item 3)."""

from __future__ import annotations

import random
from collections import Counter

from selfcoder.evolve import parent_selection as P

CFG = P.PolicyConfig()


def test_dgm_prefers_high_scores_and_few_children():
    view = P.View(parents={"root": None, "good": "root", "bad": "root", "busy": "root"},
                  results={"root": {"t": True, "u": False}, "good": {"t": True, "u": True},
                           "bad": {"t": False, "u": False}, "busy": {"t": True, "u": True}},
                  children={"root": 3, "busy": 9})
    picks = Counter(P.dgm_choose_parents(view, 4000, ["t", "u"], ["t", "u"], CFG, random.Random(1)))
    # weights: sigmoid(10*(s-.5)) / (1+children): good .993, busy .0993, root .125, bad .0067
    assert picks["good"] > 5 * picks["busy"] and picks["good"] > 5 * picks["root"]
    assert picks["bad"] < picks["busy"]


def test_dgm_staged_evaluation_runs_the_full_set_only_above_the_threshold():
    small, full = ["a"], ["a", "b", "c"]
    view = P.View(parents={"x": None, "y": None, "z": None},
                  results={"x": {"a": True}, "y": {"a": False}, "z": {"a": True, "b": True}})
    assert P.dgm_tasks_wanted(view, "x", small, full, CFG) == ["b", "c"]
    assert P.dgm_tasks_wanted(view, "y", small, full, CFG) == []
    assert P.dgm_tasks_wanted(view, "z", small, full, CFG) == ["c"]
    assert P.dgm_node_score(view, "y", small, full, CFG) == 0.0
    unscored = P.View(parents={"w": None})
    assert P.dgm_tasks_wanted(unscored, "w", small, full, CFG) == ["a"]
    assert P.dgm_choose_parents(unscored, 1, small, full, CFG, random.Random(0)) == []


def test_clade_results_include_descendants_and_never_extend_a_nodes_own_list():
    own_root = {"t1": False}
    view = P.View(parents={"root": None, "a": "root", "b": "a"},
                  results={"root": own_root, "a": {"t1": True}, "b": {"t1": True, "t2": True}})
    assert sorted(P.View.clade_results(view, "root")) == [False, True, True, True]
    assert P.View.clade_results(view, "a") == [True, True, True]
    P.View.clade_results(view, "root")
    assert own_root == {"t1": False} and view.own("a") == {"t1": True}  # the reference bug mutated these


def test_hgm_expands_the_clade_that_does_well():
    # root's own results are poor, but its descendant "a" is good: a's clade and root's clade
    # both carry a's successes; the sibling "b" did worse than both
    view = P.View(parents={"root": None, "a": "root", "b": "root"},
                  results={"root": {"t": True, "u": False, "v": False}, "a": {"t": True, "u": True, "v": True},
                           "b": {"t": True, "u": False, "v": False, "w": False, "x": False}})
    rng = random.Random(7)
    picks = Counter(P.hgm_choose_expansion(view, rng) for _ in range(2000))
    assert picks["b"] < picks["a"] and picks["b"] < picks["root"]


def test_hgm_expands_only_nodes_with_finished_results_that_solved_something():
    """HGM's rule (mean > 0): a node without results is never expanded blind, nor one that solved
    nothing while another solved something; when none solved anything, those with results."""
    view = P.View(parents={"root": None, "a": "root", "c": "root", "fresh": "root"},
                  results={"root": {"t": True, "u": False}, "a": {"t": True}, "c": {"t": False, "u": False}})
    assert P.hgm_expandable(view) == ["root", "a"]
    rng = random.Random(1)
    assert {P.hgm_choose_expansion(view, rng) for _ in range(500)} == {"root", "a"}
    nothing = P.View(parents={"root": None, "c": "root", "fresh": "root"},
                     results={"root": {"t": False}, "c": {"t": False}})
    assert P.hgm_expandable(nothing) == ["root", "c"]
    assert P.hgm_choose_expansion(P.View(parents={"root": None}), rng) is None  # the root not evaluated yet


def test_sigmoid_does_not_overflow_for_large_arguments():
    assert P.sigmoid(0) == 0.5
    assert P.sigmoid(1000.0) == 1.0 and P.sigmoid(-1000.0) == 0.0  # math.exp(1000) overflows
    assert P.sigmoid(-745.0) > 0 and abs(P.sigmoid(2.0) + P.sigmoid(-2.0) - 1.0) < 1e-15
    view = P.View(parents={"root": None, "a": "root"}, results={"root": {"t": False}, "a": {"t": True}})
    cfg = P.PolicyConfig(lam=5000.0)  # λ·|s − α₀| = 2500
    assert P.dgm_choose_parents(view, 10, ["t"], ["t"], cfg, random.Random(0)) == ["a"] * 10


def test_hgm_evaluates_one_task_at_a_time_skipping_done_and_busy():
    view = P.View(parents={"root": None, "a": "root"}, results={"root": {"t": True, "u": True}, "a": {"t": True}})
    rng = random.Random(3)
    assert P.hgm_choose_evaluation(view, ["t", "u"], set(), rng) == ("a", "u")
    assert P.hgm_choose_evaluation(view, ["t", "u"], {("a", "u")}, rng) is None


def test_hgm_expands_when_evaluations_to_the_alpha_reach_the_nodes():
    # both counts without the root (its evaluations, itself): the first child comes as soon as the
    # root's evaluations are finished (0 ** 0.6 = 0 >= 0 children)
    assert P.hgm_should_expand(0, 0, CFG) is True
    assert P.hgm_should_expand(0, 1, CFG) is False  # 0 ** 0.6 = 0 < 1: evaluate the child first
    assert P.hgm_should_expand(1, 1, CFG) is True
    assert P.hgm_should_expand(3, 2, CFG) is False  # 3 ** 0.6 = 1.93
    assert P.hgm_should_expand(4, 2, CFG) is True  # 2.30
