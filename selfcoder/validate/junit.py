"""JUnit XML written by pytest → `{nodeid: status}`.

Test ids must be pytest node ids (`tests/test_x.py::TestA::test_b[1]`), because that is
how tasks name tests (SWE-bench FAIL_TO_PASS). JUnit loses the id: pytest writes
`classname="tests.test_x.TestA"` and `name="test_b[1]"`. We run pytest with
`junit_family=xunit1`, which adds `file="tests/test_x.py"`, and rebuild the id:
the module part of the classname is the file path with `/` → `.` and no `.py`, the rest
are classes. When `file` does not match (a test inherited from a class in another file
points `file` at that file), the module is found among the workspace's known files, else
by taking the trailing CapWords parts as classes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Iterable

from selfcoder.validate.verdict import TestStatus

# When one id appears more than once (a failure in the call plus an error in teardown),
# the worst status wins.
_RANK: dict[str, int] = {"skipped": 0, "passed": 1, "error": 2, "failed": 3}


def merge_status(statuses: dict[str, TestStatus], test_id: str, status: TestStatus) -> None:
    old = statuses.get(test_id)
    if old is None or _RANK[status] > _RANK[old]:
        statuses[test_id] = status


def _module_of(path: str) -> str:
    return path[:-3].replace("/", ".") if path.endswith(".py") else path.replace("/", ".")


def _split_classname(classname: str, file: str | None, known: dict[str, str]) -> tuple[str, list[str]]:
    """`tests.test_x.TestA.TestB` → (`tests/test_x.py`, [`TestA`, `TestB`])."""
    if file:
        module = _module_of(file)
        if classname == module:
            return file, []
        if classname.startswith(module + "."):
            return file, classname[len(module) + 1 :].split(".")
    parts = classname.split(".")
    for cut in range(len(parts), 0, -1):  # the longest module prefix that is a known file
        path = known.get(".".join(parts[:cut]))
        if path is not None:
            return path, parts[cut:]
    cut = len(parts)
    while cut > 1 and parts[cut - 1][:1].isupper():
        cut -= 1
    return "/".join(parts[:cut]) + ".py", parts[cut:]


def testcase_id(classname: str, name: str, file: str | None, known: dict[str, str]) -> str:
    if not classname:  # a collection error: name is the module ("tests.test_x")
        if file:
            return file
        path = known.get(name)
        return path if path is not None else name.replace(".", "/") + ".py"
    path, classes = _split_classname(classname, file, known)
    return "::".join([path, *classes, name])


def testcase_status(case: ET.Element) -> TestStatus:
    tags = {child.tag for child in case}
    if "failure" in tags:
        return "failed"
    if "error" in tags:
        return "error"
    if "skipped" in tags:  # pytest.skip, and xfail (type="pytest.xfail"): neither pass nor fail
        return "skipped"
    return "passed"


def parse_junit(xml: bytes | str, known_files: Iterable[str] = ()) -> dict[str, TestStatus]:
    """Statuses of every testcase in a pytest JUnit XML report.

    `known_files`: paths of the workspace's Python files relative to pytest's rootdir
    (used only when the report's `file` attribute cannot place a test)."""
    known = {_module_of(p): p for p in known_files if p.endswith(".py")}
    root = ET.fromstring(xml)
    statuses: dict[str, TestStatus] = {}
    for case in root.iter("testcase"):
        test_id = testcase_id(case.get("classname", ""), case.get("name", ""), case.get("file"), known)
        merge_status(statuses, test_id, testcase_status(case))
    return statuses
