"""The resolved rule: FAIL_TO_PASS / PASS_TO_PASS, named or derived from a run without the patch."""

from __future__ import annotations

import pytest

from selfcoder.validate.report import decide, describe


def test_named_lists_swebench_style():
    after = {"t::a": "passed", "t::b": "failed", "t::c": "passed", "t::d": "skipped"}
    f2p, p2p = decide(["t::a", "t::gone"], ["t::b", "t::c", "t::d"], after)
    assert (f2p.success, f2p.failure) == (["t::a"], ["t::gone"])  # a missing test is a failure
    assert (p2p.success, p2p.failure) == (["t::c"], ["t::b", "t::d"])  # skipped does not count as passing


def test_derived_from_before():
    before = {"t::ok": "passed", "t::bug": "failed", "t::err": "error", "t::skip": "skipped"}
    after = {"t::ok": "passed", "t::bug": "passed", "t::err": "passed", "t::skip": "skipped", "t::new": "passed"}
    f2p, p2p = decide([], [], after, before)
    assert f2p.success == ["t::bug", "t::err", "t::new"] and not f2p.failure
    assert p2p.success == ["t::ok"] and not p2p.failure


def test_derived_catches_breakage_and_deleted_tests():
    before = {"t::ok": "passed", "t::other": "passed", "t::bug": "failed"}
    after = {"t::ok": "failed", "t::bug": "passed"}  # t::other was deleted
    f2p, p2p = decide([], [], after, before)
    assert f2p.success == ["t::bug"]
    assert p2p.failure == ["t::ok", "t::other"]
    assert "2 previously passing tests broke: t::ok, t::other" in describe(f2p, p2p)


def test_collection_error_before_is_replaced_by_the_module_tests():
    before = {"tests/test_x.py": "error", "tests/test_y.py::a": "passed"}
    after = {"tests/test_x.py::new_a": "passed", "tests/test_x.py::new_b": "failed", "tests/test_y.py::a": "passed"}
    f2p, p2p = decide([], [], after, before)
    assert f2p.success == ["tests/test_x.py::new_a"] and f2p.failure == ["tests/test_x.py::new_b"]
    assert p2p.success == ["tests/test_y.py::a"]


def test_named_fail_to_pass_with_derived_pass_to_pass():
    before = {"a": "passed", "b": "failed", "c": "failed"}
    after = {"a": "passed", "b": "passed", "c": "failed"}
    f2p, p2p = decide(["b"], [], after, before)
    assert f2p.success == ["b"] and not f2p.failure  # c failed before and after: not the user's target
    assert p2p.success == ["a"]


def test_derived_lists_need_a_before_run():
    with pytest.raises(ValueError):
        decide(["a"], [], {"a": "passed"})
