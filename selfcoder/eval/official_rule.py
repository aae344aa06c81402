"""The official SWE-bench grading rule, applied to a test status map.

    report = tests_report(statuses, fail_to_pass, pass_to_pass)
    resolution_status(report)  # RESOLVED_FULL | RESOLVED_PARTIAL | RESOLVED_NO

The rule (swebench 5.x, `swebench.harness.grading`), written out so grading needs no heavy
dependency; with the `swebench` package installed (`pip install selfcoder[swebench]`) its own
functions are used instead, and tests/eval/test_official_parsers.py checks both agree:

- FAIL_TO_PASS: a test succeeds only if it passed (XFAIL counts as passed); failed, error,
  skipped and *missing* count as failures;
- PASS_TO_PASS: passed or skipped succeed; failed, error and missing fail;
- a parametrized id cut short in the dataset (`test_x[log(photon`) matches the ids it
  prefixes when they all agree on pass/fail;
- resolved (FULL) iff every FAIL_TO_PASS and every PASS_TO_PASS test succeeds.

Statuses are selfcoder's (`passed`, `failed`, `error`, `skipped`); the official map's `XFAIL`
becomes `passed` before it gets here, which changes no outcome of the rule.
"""

from __future__ import annotations

from typing import Any

FULL, PARTIAL, NO = "RESOLVED_FULL", "RESOLVED_PARTIAL", "RESOLVED_NO"
TO_OFFICIAL = {"passed": "PASSED", "failed": "FAILED", "error": "ERROR", "skipped": "SKIPPED"}


def _resolve_case(case: str, statuses: dict[str, str]) -> str | None:
    if case in statuses:
        return case
    if case.count("[") > case.count("]"):
        matches = [k for k in statuses if k.startswith(case)]
        if matches and len({statuses[k] == "passed" for k in matches}) == 1:
            return matches[0]
    return None


def _passed(case: str, statuses: dict[str, str]) -> bool:
    key = _resolve_case(case, statuses)
    return key is not None and statuses[key] == "passed"


def _maintained(case: str, statuses: dict[str, str]) -> bool:
    key = _resolve_case(case, statuses)
    return key is not None and statuses[key] in ("passed", "skipped")


def _ours(statuses: dict[str, str], fail_to_pass: list[str], pass_to_pass: list[str]) -> dict[str, dict[str, list[str]]]:
    report: dict[str, dict[str, list[str]]] = {}
    for key, tests, ok in (("FAIL_TO_PASS", fail_to_pass, _passed), ("PASS_TO_PASS", pass_to_pass, _maintained)):
        success = [t for t in tests if ok(t, statuses)]
        report[key] = {"success": success, "failure": [t for t in tests if not ok(t, statuses)]}
    for key in ("FAIL_TO_FAIL", "PASS_TO_FAIL"):
        report[key] = {"success": [], "failure": []}
    return report


def official_module() -> Any:
    """`swebench.harness.grading` when the optional package is installed, else None."""
    try:
        from swebench.harness import grading
    except Exception:  # noqa: BLE001 - missing, or broken by one of its many dependencies
        return None
    return grading


def grader_name(official: bool | None = None) -> str:
    """Which implementation `tests_report(official=official)` uses, for the report:
    `swebench <version>` (the official package's own functions) or `selfcoder`."""
    if official is False or official_module() is None:
        return "selfcoder"
    try:
        from importlib.metadata import version

        return f"swebench {version('swebench')}"
    except Exception:  # noqa: BLE001 - installed without metadata
        return "swebench"


def tests_report(statuses: dict[str, str], fail_to_pass: list[str], pass_to_pass: list[str],
                 *, official: bool | None = None) -> dict[str, dict[str, list[str]]]:
    """SWE-bench's tests_status report. `official`: True = the swebench package (an error when
    it is missing), False = ours, None = the package when installed."""
    module = official_module() if official is not False else None
    if official and module is None:
        raise RuntimeError("the swebench package is not installed (pip install 'selfcoder[swebench]')")
    if module is None:
        return _ours(statuses, list(fail_to_pass), list(pass_to_pass))
    status_map = {name: TO_OFFICIAL.get(s, "FAILED") for name, s in statuses.items()}
    return module.get_eval_tests_report(status_map, {"FAIL_TO_PASS": list(fail_to_pass),
                                                     "PASS_TO_PASS": list(pass_to_pass)})


def _ratio(part: dict[str, list[str]]) -> float:
    total = len(part["success"]) + len(part["failure"])
    return 1.0 if total == 0 else len(part["success"]) / total


def resolution_status(report: dict[str, dict[str, list[str]]]) -> str:
    f2p, p2p = _ratio(report["FAIL_TO_PASS"]), _ratio(report["PASS_TO_PASS"])
    if f2p == 1 and p2p == 1:
        return FULL
    if 0 < f2p < 1 and p2p == 1:
        return PARTIAL
    return NO


def inconsistent_exit(exit_code: int | None, statuses: dict[str, str]) -> bool:
    """The official harness's check against a patch that prints fake PASSED lines: the test
    command failed, yet no test is reported failed or errored. Such a log grades nothing."""
    return exit_code not in (None, 0) and bool(statuses) and not any(
        s in ("failed", "error") for s in statuses.values())
