"""The statistics a held-out comparison needs: Wilson score intervals and the exact McNemar test.

Solve rates on a few dozen tasks are noisy; a user who reads "n7: 0.42 vs seed: 0.35" needs the
interval around each rate and a test on the *paired* outcomes (both nodes ran the same tasks,
so only the tasks where they disagree carry evidence). Hand-written, standard library only:
the formulas are a few lines and a scipy dependency for them would weigh more than they do.
"""

from __future__ import annotations

import math

Z95 = 1.959963984540054  # the 97.5 % quantile of the standard normal


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for `successes` out of `n` (95 % by default); (0, 1) when n = 0.
    Unlike the normal approximation it stays inside [0, 1] and is not empty at 0 or n successes."""
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"wilson: need 0 <= successes <= n, got {successes} of {n}")
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value (a sign test on the discordant pairs): under "both nodes
    are equally good", each task that exactly one of them solves is a fair coin flip."""
    if only_a < 0 or only_b < 0:
        raise ValueError("mcnemar_exact: counts must be >= 0")
    n = only_a + only_b
    if n == 0:
        return 1.0
    k = min(only_a, only_b)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def mcnemar_floor(n: int) -> float:
    """The smallest two-sided exact McNemar p that `n` paired tasks can ever give: every task
    solved by one side only, all by the same side, 2 · 0.5^n (1 for n = 0)."""
    return min(1.0, 2 * 0.5 ** n) if n > 0 else 1.0


def tasks_needed(alpha: float = 0.05) -> int:
    """The fewest paired tasks whose smallest possible p is below `alpha` (6 for 0.05)."""
    n = 1
    while mcnemar_floor(n) >= alpha:
        n += 1
    return n


# -- the one notion of "best" -------------------------------------------------------------------
# The search's progress, `archive best`, `archive list`, the lineage picture and `archive compare
# best` all rank nodes with these two functions, so they never disagree.

def node_scores(nodes, evals, tasks=None) -> dict[str, tuple[int, int, float]]:
    """node id → (solved, evaluated, Wilson 95 % lower bound) over its finished evaluations on the
    search's task set `tasks` (the common set every node is drawn from; None: every task), for the
    valid nodes with at least one such evaluation. The lower bound ranks a node by what its
    results show *for sure*: 1 of 1 (0.21) is below 8 of 10 (0.49), so a lucky first task does
    not make a node the best."""
    common = None if tasks is None else set(tasks)
    counted: dict[str, list[bool]] = {}
    for e in evals:
        if common is None or e.task in common:
            counted.setdefault(e.node, []).append(bool(e.resolved))
    out = {}
    for n in nodes:
        results = counted.get(n.id)
        if n.valid and results:
            out[n.id] = (sum(results), len(results), wilson(sum(results), len(results))[0])
    return out


def best_node(nodes, evals, tasks=None) -> tuple[str | None, float | None]:
    """(the best valid node, its lower bound): the highest Wilson lower bound of `node_scores`;
    ties go to the older node (numeric node order: root, n1, n2, ..., n10)."""
    scores = node_scores(nodes, evals, tasks)
    ranked = [(scores[n.id][2], -n.seq, n.id) for n in nodes if n.id in scores]
    if not ranked:
        return None, None
    lower, _, node = max(ranked)
    return node, lower
