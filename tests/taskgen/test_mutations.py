"""The AST mutation operators: each changes exactly the node it names, as described, only in the
text of that node (the rest of the file byte for byte), and the same site gives the same mutant."""

from __future__ import annotations

import ast
import difflib

import pytest

from selfcoder.taskgen import mutations
from selfcoder.taskgen.mutations import Site, apply, find_sites
from selfcoder.taskgen.search import order_candidates

SOURCE = '''"""A module."""
import os  # kept


def f(xs, n=3):
    """Docstring: never mutated."""
    total = 0  # a comment that must survive
    for x in xs[:n]:
        if x > 2 and x != 5:
            total += x * 2
        elif x in (1, 2):
            total = total - x
    flag = True
    return total / len(xs), flag
'''


def changed(before: str, after: str) -> list[tuple[str, str]]:
    """(removed line, added line) pairs of a one-line edit."""
    diff = [line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line[:2] in ("- ", "+ ")]
    removed = [line[2:] for line in diff if line.startswith("- ")]
    added = [line[2:] for line in diff if line.startswith("+ ")]
    return list(zip(removed, added)) if added else [(r, "") for r in removed]


def mutants(op: str) -> list[str]:
    return [m for s in find_sites(SOURCE, [op]) if (m := apply(SOURCE, s)) is not None]


def one_line_changes(op: str) -> set[tuple[str, str]]:
    out = set()
    for m in mutants(op):
        pairs = changed(SOURCE, m)
        assert len(pairs) == 1, (op, pairs)
        out.add((pairs[0][0].strip(), pairs[0][1].strip()))
    return out


def test_flip_comparison():
    assert one_line_changes("flip_comparison") == {
        ("if x > 2 and x != 5:", "if x <= 2 and x != 5:"),
        ("if x > 2 and x != 5:", "if x > 2 and x == 5:"),
        ("elif x in (1, 2):", "elif x not in (1, 2):"),
    }


def test_flip_operator_and_boolean():
    assert one_line_changes("flip_operator") == {
        ("total += x * 2", "total -= x * 2"), ("total += x * 2", "total += x // 2"),
        ("total = total - x", "total = total + x"), ("return total / len(xs), flag", "return total * len(xs), flag"),
    }
    assert one_line_changes("flip_boolean") == {("if x > 2 and x != 5:", "if x > 2 or x != 5:")}


def test_off_by_one_moves_an_int_or_a_slice_bound_by_one():
    changes = one_line_changes("off_by_one")
    assert ("for x in xs[:n]:", "for x in xs[:n + 1]:") in changes or ("for x in xs[:n]:", "for x in xs[:n - 1]:") in changes
    assert ("def f(xs, n=3):", "def f(xs, n=2):") in changes or ("def f(xs, n=3):", "def f(xs, n=4):") in changes
    for before, after in changes:  # exactly one number differs, by one, or a slice bound gains ± 1
        nums = [(int(a), int(b)) for a, b in zip(*(__import__("re").findall(r"\d+", s) for s in (before, after)))]
        assert any(abs(a - b) == 1 for a, b in nums) or after.endswith(("n + 1]:", "n - 1]:")), (before, after)


def test_invert_if_negates_only_the_condition():
    assert one_line_changes("invert_if") == {
        ("if x > 2 and x != 5:", "if not (x > 2 and x != 5):"), ("elif x in (1, 2):", "elif not x in (1, 2):"),
    }


def test_swap_operands_only_where_order_matters():
    assert one_line_changes("swap_operands") == {
        ("total = total - x", "total = x - total"), ("return total / len(xs), flag", "return len(xs) / total, flag"),
        ("if x > 2 and x != 5:", "if 2 > x and x != 5:"),
    }


def test_change_constant_flips_booleans_and_zeroes_magic_numbers():
    changes = one_line_changes("change_constant")
    assert ("flag = True", "flag = False") in changes
    assert all(after != before for before, after in changes)
    assert not any("Docstring" in before for before, _ in changes)


def test_drop_statement_removes_whole_statements_and_keeps_bodies_non_empty():
    for m in mutants("drop_statement"):
        ast.parse(m)  # still a module
        assert '"""Docstring: never mutated."""' in m and "import os" in m
        assert len(m.splitlines()) < len(SOURCE.splitlines())
    dropped = {changed(SOURCE, m)[0][0].strip() for m in mutants("drop_statement")}
    assert "flag = True" in dropped and "total = 0  # a comment that must survive" in dropped


def test_every_mutant_keeps_the_rest_of_the_file_byte_for_byte():
    for site in find_sites(SOURCE):
        m = apply(SOURCE, site)
        if m is None:
            continue
        assert ast.dump(ast.parse(m)) != ast.dump(ast.parse(SOURCE))
        diff = list(difflib.ndiff(SOURCE.splitlines(), m.splitlines()))
        removed, added = (sum(1 for line in diff if line.startswith(p)) for p in ("- ", "+ "))
        assert added <= 1 and (removed == 1 or site.op == "drop_statement"), (site, removed, added)
        assert "# a comment that must survive" in m or site.op == "drop_statement"


def test_the_same_site_gives_the_same_mutant_and_a_bad_site_gives_none():
    sites = find_sites(SOURCE)
    assert sites == find_sites(SOURCE)
    assert [apply(SOURCE, s) for s in sites] == [apply(SOURCE, s) for s in sites]
    assert apply(SOURCE, Site("flip_comparison", 99, 0)) is None
    with pytest.raises(ValueError, match="unknown mutation operator"):
        find_sites(SOURCE, ["rename_everything"])
    assert set(mutations.OPERATORS) == {s.op for s in sites}


def test_the_candidate_order_depends_only_on_the_seed(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text(SOURCE)
    key = lambda cands: [(c.file, c.site) for c in cands]  # noqa: E731
    one = key(order_candidates(tmp_path, ["pkg/m.py"], seed=1))
    assert one == key(order_candidates(tmp_path, ["pkg/m.py"], seed=1))
    assert one != key(order_candidates(tmp_path, ["pkg/m.py"], seed=2))
    assert sorted(map(repr, one)) == sorted(map(repr, key(order_candidates(tmp_path, ["pkg/m.py"], seed=2))))
    assert len({site.op for _, site in one[:8]}) == 8  # operators take turns
