"""FAIL_TO_PASS / PASS_TO_PASS from test statuses: the rule that decides "resolved".

A test counts as a success only if it *passed* in the run with the patch; failed, error,
skipped and missing (deleted, renamed, not collected) are failures. This is stricter than
SWE-bench's harness, which drops skipped tests from both lists: a patch must not get
credit for a target test that did not run.

Lists the task does not name come from the run without the patch ("before"):
- FAIL_TO_PASS: tests that failed or errored before, plus tests that only exist after
  (new tests, or tests of a module that did not import before); a module-level
  collection error before (`tests/test_x.py`) is replaced by that module's tests after.
- PASS_TO_PASS: tests that passed before (minus FAIL_TO_PASS).
"""

from __future__ import annotations

from selfcoder.validate.verdict import TestsReport, TestStatus

BAD = ("failed", "error")


def _replaced_by_tests(test_id: str, after: dict[str, TestStatus]) -> bool:
    """`tests/test_x.py` (a collection error) is absent after but its tests are there."""
    prefix = test_id + "::"
    return test_id not in after and any(t.startswith(prefix) for t in after)


def derive_fail_to_pass(before: dict[str, TestStatus], after: dict[str, TestStatus]) -> list[str]:
    failed_before = [t for t, s in before.items() if s in BAD and not _replaced_by_tests(t, after)]
    new_after = [t for t, s in after.items() if t not in before and s != "skipped"]
    return failed_before + new_after


def derive_pass_to_pass(before: dict[str, TestStatus], exclude: list[str]) -> list[str]:
    excluded = set(exclude)
    return [t for t, s in before.items() if s == "passed" and t not in excluded]


def score(test_ids: list[str], after: dict[str, TestStatus]) -> TestsReport:
    report = TestsReport()
    for t in dict.fromkeys(test_ids):  # keep order, drop duplicates
        (report.success if after.get(t) == "passed" else report.failure).append(t)
    return report


def decide(
    fail_to_pass: list[str],
    pass_to_pass: list[str],
    after: dict[str, TestStatus],
    before: dict[str, TestStatus] | None = None,
) -> tuple[TestsReport, TestsReport]:
    """Score the named lists, deriving the unnamed ones from `before`."""
    if not fail_to_pass or not pass_to_pass:
        if before is None:
            raise ValueError("a run without the patch is needed when FAIL_TO_PASS or PASS_TO_PASS is not named")
    f2p = list(fail_to_pass) or derive_fail_to_pass(before or {}, after)
    p2p = list(pass_to_pass) or derive_pass_to_pass(before or {}, f2p)
    return score(f2p, after), score(p2p, after)


def describe(f2p: TestsReport, p2p: TestsReport, limit: int = 5) -> str:
    """One line for the user: what still fails, what broke."""
    parts = []
    if f2p.failure:
        parts.append(f"{len(f2p.failure)} of {len(f2p.success) + len(f2p.failure)} target tests still fail: "
                     + ", ".join(f2p.failure[:limit]) + (" ..." if len(f2p.failure) > limit else ""))
    if p2p.failure:
        parts.append(f"{len(p2p.failure)} previously passing tests broke: "
                     + ", ".join(p2p.failure[:limit]) + (" ..." if len(p2p.failure) > limit else ""))
    if not parts:
        if f2p.success:
            return f"{len(f2p.success)} target tests pass, {len(p2p.success)} other tests still pass"
        return f"no failing tests to fix; {len(p2p.success)} passing tests still pass"
    return "; ".join(parts)
