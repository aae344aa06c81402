"""Which node to expand (self-modify) and which evaluation to run next: `dgm` and `hgm`.

Both are pure functions of a `View` of the archive (nodes, their parents, their evaluation
results) and a seeded `random.Random`, so they are unit-tested without any run and a resumed
search decides from what is on disk, nothing else.

dgm (Darwin Gödel Machine): a parent is drawn with probability ∝ sigmoid(λ·(score − α₀)) ·
    1/(1 + children); staged evaluation: every valid node gets the small task set, and the
    full set only when its small-set score reaches `stage_threshold`.
hgm (Huxley Gödel Machine): the root is first evaluated on the whole task set; then expand
    when evaluations^α ≥ nodes (both without the root: its evaluations and itself), the node
    whose clade (itself and all descendants) draws the highest sample from Beta(1 + resolved,
    1 + failed), among the nodes with finished results that solved something (mean > 0);
    otherwise evaluate the node whose own results draw the highest sample, one task at a time.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field


@dataclass
class PolicyConfig:
    name: str = "hgm"
    lam: float = 10.0  # dgm: sigmoid steepness λ
    alpha0: float = 0.5  # dgm: sigmoid midpoint α₀
    stage_threshold: float = 0.5  # dgm: small-set score needed for the full set
    alpha: float = 0.6  # hgm: expand when evaluations^alpha >= nodes
    children_per_generation: int = 2  # dgm

    @classmethod
    def from_dict(cls, data: dict) -> "PolicyConfig":
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class View:
    """The archive as the policies see it. `results[node]` maps task id → resolved."""

    parents: dict[str, str | None]  # every valid node → its parent (None for the root)
    results: dict[str, dict[str, bool]] = field(default_factory=dict)
    children: dict[str, int] = field(default_factory=dict)  # valid and invalid children made from a node

    def own(self, node: str) -> dict[str, bool]:
        return self.results.get(node, {})

    def descendants(self, node: str) -> list[str]:
        kids: dict[str, list[str]] = {}
        for child, parent in self.parents.items():
            if parent is not None:
                kids.setdefault(parent, []).append(child)
        out, stack = [], list(kids.get(node, []))
        while stack:
            n = stack.pop()
            out.append(n)
            stack.extend(kids.get(n, []))
        return out

    def clade_results(self, node: str) -> list[bool]:
        """The node's and all its descendants' results, in a new list (nothing shared is extended)."""
        gathered = list(self.own(node).values())
        for d in self.descendants(node):
            gathered = gathered + list(self.own(d).values())
        return gathered


def score(results: dict[str, bool], tasks: list[str]) -> float | None:
    """Fraction of `tasks` resolved, None until all of them are evaluated."""
    if not tasks or any(t not in results for t in tasks):
        return None
    return sum(results[t] for t in tasks) / len(tasks)


def sigmoid(x: float) -> float:
    """1 / (1 + e^-x) without overflow: for x < 0 as e^x / (1 + e^x) (e^x then underflows to 0)."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


# -- dgm ------------------------------------------------------------------------------------------
def dgm_tasks_wanted(view: View, node: str, small: list[str], full: list[str], cfg: PolicyConfig) -> list[str]:
    """The tasks `node` should be evaluated on now (staged), minus those already done."""
    own = view.own(node)
    wanted = list(small)
    small_score = score(own, small)
    if small_score is not None and small_score >= cfg.stage_threshold:
        wanted += [t for t in full if t not in wanted]
    return [t for t in wanted if t not in own]


def dgm_node_score(view: View, node: str, small: list[str], full: list[str], cfg: PolicyConfig) -> float | None:
    """The score DGM ranks by: on the full set when it got there, else on the small set."""
    own = view.own(node)
    every = list(dict.fromkeys(list(small) + list(full)))
    s = score(own, every)
    return s if s is not None else score(own, small)


def dgm_choose_parents(view: View, k: int, small: list[str], full: list[str], cfg: PolicyConfig,
                       rng: random.Random) -> list[str]:
    """k parents drawn (with replacement) ∝ sigmoid(λ(score − α₀)) / (1 + children)."""
    candidates, weights = [], []
    for node in view.parents:
        s = dgm_node_score(view, node, small, full, cfg)
        if s is None:
            continue
        candidates.append(node)
        weights.append(sigmoid(cfg.lam * (s - cfg.alpha0)) / (1 + view.children.get(node, 0)))
    if not candidates:
        return []
    return rng.choices(candidates, weights=weights, k=k)


# -- hgm ------------------------------------------------------------------------------------------
def hgm_should_expand(evaluations: int, nodes: int, cfg: PolicyConfig) -> bool:
    """HGM's rule: `evaluations` (finished, the root's not counted) ^ α ≥ `nodes` (children made
    or being made, the root not counted; invalid and failed ones too: each took its turn, so a
    run of broken children cannot crowd out the evaluations)."""
    return evaluations ** cfg.alpha >= nodes


def hgm_expandable(view: View) -> list[str]:
    """The nodes HGM may expand: valid, with finished results, mean > 0. When no node solved
    anything yet, every node with finished results (a seed that solves nothing can still be
    improved); never a node without results (its diagnosis would have nothing to go on)."""
    measured = [n for n in view.parents if view.own(n)]
    good = [n for n in measured if any(view.own(n).values())]
    return good or measured


def hgm_choose_expansion(view: View, rng: random.Random) -> str | None:
    """Thompson sampling over the clades' Beta posteriors, among `hgm_expandable` nodes."""
    best, best_draw = None, -1.0
    for node in hgm_expandable(view):
        clade = view.clade_results(node)
        wins = sum(clade)
        draw = rng.betavariate(1 + wins, 1 + len(clade) - wins)
        if draw > best_draw:
            best, best_draw = node, draw
    return best


def hgm_choose_evaluation(view: View, tasks: list[str], busy: set[tuple[str, str]],
                          rng: random.Random) -> tuple[str, str] | None:
    """(node, task): Thompson sampling over the nodes' own results, among nodes with a task left
    (not evaluated and not being evaluated); the node's next task in task-set order."""
    best, best_draw = None, -1.0
    for node in view.parents:
        own = view.own(node)
        left = [t for t in tasks if t not in own and (node, t) not in busy]
        if not left:
            continue
        wins = sum(own.values())
        draw = rng.betavariate(1 + wins, 1 + len(own) - wins)
        if draw > best_draw:
            best, best_draw = (node, left[0]), draw
    return best
