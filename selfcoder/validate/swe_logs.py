"""Log parsers for the test runners of the SWE-bench repositories, with the official semantics.

Each function reads a test log and returns `{test_id: status}` with SWE-bench's status words
(`PASSED`, `FAILED`, `SKIPPED`, `ERROR`, `XFAIL`), written to give the same answers as the
functions of `swebench.harness.log_parsers` (tests/eval/test_official_parsers.py runs both on
real logs). They live here so that grading works without the `swebench` package, whose
dependencies are heavy; with it installed, eval uses the official functions themselves.

- `pytest`: the `-rA` short summary (`PASSED tests/test_x.py::test_a`);
- `pytest_v2`: the same, also ANSI-coloured logs and old `name STATUS` lines (astropy, sphinx, sklearn);
- `pytest_options`: the same, long parameter paths shortened (requests, pylint, pydicom);
- `django`: Django's `runtests.py --verbosity 2` (`test_a (app.tests.T) ... ok`), also plain
  `python -m unittest -v`;
- `sympy`: SymPy's `bin/test -C --verbose` (`test_a ok`, `test_b F`, `test_c E`).
"""

from __future__ import annotations

import re
from typing import Callable

STATUSES = ("FAILED", "PASSED", "SKIPPED", "ERROR", "XFAIL")
_SKIP_SUMMARY_COUNT = re.compile(r"^\[\d+\]$")

SweLogParser = Callable[[str], dict[str, str]]


def _is_skip_summary(status: str, name: str) -> bool:
    """pytest's `SKIPPED [N] path:line: reason` summary: [N] is not a test."""
    return status == "SKIPPED" and bool(_SKIP_SUMMARY_COUNT.match(name))


def _starts_with_status(line: str) -> bool:
    return any(line.startswith(s) for s in STATUSES)


def parse_pytest(log: str) -> dict[str, str]:
    statuses: dict[str, str] = {}
    for line in log.split("\n"):
        if not _starts_with_status(line):
            continue
        if line.startswith("FAILED"):
            line = line.replace(" - ", " ")
        words = line.split()
        if len(words) <= 1 or _is_skip_summary(words[0], words[1]):
            continue
        statuses[words[1]] = words[0]
    return statuses


_OPTION = re.compile(r"(.*?)\[(.*)\]")


def parse_pytest_options(log: str) -> dict[str, str]:
    statuses: dict[str, str] = {}
    for line in log.split("\n"):
        if not _starts_with_status(line):
            continue
        if line.startswith("FAILED"):
            line = line.replace(" - ", " ")
        words = line.split()
        if len(words) <= 1 or _is_skip_summary(words[0], words[1]):
            continue
        name = words[1]
        m = _OPTION.search(name)
        if m:
            main, option = m.groups()
            if option.startswith("/") and not option.startswith("//") and "*" not in option:
                option = "/" + option.split("/")[-1]
            name = f"{main}[{option}]"
        statuses[name] = words[0]
    return statuses


_CONTROL = str.maketrans("", "", "".join(chr(c) for c in range(1, 32)))


def parse_pytest_v2(log: str) -> dict[str, str]:
    statuses: dict[str, str] = {}
    for line in log.split("\n"):
        line = re.sub(r"\[(\d+)m", "", line).translate(_CONTROL)
        if _starts_with_status(line):
            if line.startswith("FAILED"):
                line = line.split(" - ", 1)[0]
            words = line.split()
            if len(words) >= 2 and not _is_skip_summary(words[0], words[1]):
                statuses[" ".join(words[1:])] = words[0]
        elif any(line.endswith(s) for s in STATUSES):
            words = line.split()
            if len(words) >= 2:
                statuses[" ".join(words[:-1])] = words[-1]
    return statuses


_DJANGO_MULTILINE = (
    r"^(.*?)\s\.\.\.\sTesting\ against\ Django\ installed\ in\ ((?s:.*?))\ silenced\)\.\nok$",
    r"^(.*?)\s\.\.\.\sInternal\ Server\ Error:\ \/(.*)\/\nok$",
    r"^(.*?)\s\.\.\.\sSystem check identified no issues \(0 silenced\)\nok$",
)


def parse_django(log: str) -> dict[str, str]:
    statuses: dict[str, str] = {}
    prev_test = None
    for line in log.split("\n"):
        line = line.strip()
        if "--version is equivalent to version" in line:
            statuses["--version is equivalent to version"] = "PASSED"
        if " ... " in line:
            prev_test = line.split(" ... ")[0]
        for suffix in (" ... ok", " ... OK", " ...  OK"):
            if line.endswith(suffix):
                if line.startswith("Applying sites.0002_alter_domain_unique...test_no_migrations"):
                    line = line.split("...", 1)[-1].strip()  # django__django-7188
                statuses[line.rsplit(suffix, 1)[0]] = "PASSED"
                break
        if " ... skipped" in line:
            statuses[line.split(" ... skipped")[0]] = "SKIPPED"
        if line.endswith(" ... FAIL"):
            statuses[line.split(" ... FAIL")[0]] = "FAILED"
        if line.startswith("FAIL:"):
            statuses[line.split()[1].strip()] = "FAILED"
        if line.endswith(" ... ERROR"):
            statuses[line.split(" ... ERROR")[0]] = "ERROR"
        if line.startswith("ERROR:"):
            statuses[line.split()[1].strip()] = "ERROR"
        if line.lstrip().startswith("ok") and prev_test is not None:
            statuses[prev_test] = "PASSED"  # output between "..." and "ok"
    for pattern in _DJANGO_MULTILINE:
        for m in re.finditer(pattern, log, re.MULTILINE):
            statuses[m.group(1)] = "PASSED"
    return statuses


def parse_sympy(log: str) -> dict[str, str]:
    statuses: dict[str, str] = {}
    for m in re.findall(r"(_*) (.*)\.py:(.*) (_*)", log):  # the headers of failure reports
        statuses[f"{m[1]}.py:{m[2]}"] = "FAILED"
    for line in log.split("\n"):
        line = line.strip()
        if line.startswith("test_"):
            if line.endswith(" E"):
                statuses[line.split()[0]] = "ERROR"
            if line.endswith(" F"):
                statuses[line.split()[0]] = "FAILED"
            if line.endswith(" ok"):
                statuses[line.split()[0]] = "PASSED"
    return statuses


def parse_matplotlib(log: str) -> dict[str, str]:
    return parse_pytest(log.replace("MouseButton.LEFT", "1").replace("MouseButton.RIGHT", "3"))


def parse_seaborn(log: str) -> dict[str, str]:
    statuses: dict[str, str] = {}
    for line in log.split("\n"):
        parts = line.split()
        if len(parts) < 2:
            continue
        if line.startswith("FAILED"):
            statuses[parts[1]] = "FAILED"
        elif " PASSED " in line:
            if parts[1] == "PASSED":
                statuses[parts[0]] = "PASSED"
        elif line.startswith("PASSED"):
            statuses[parts[1]] = "PASSED"
    return statuses


# name → (parser, whether it needs pytest's `-rA` summary)
SWE_PARSERS: dict[str, tuple[SweLogParser, bool]] = {
    "pytest-ra": (parse_pytest, True),
    "pytest-v2": (parse_pytest_v2, True),
    "pytest-options": (parse_pytest_options, True),
    "matplotlib": (parse_matplotlib, True),
    "seaborn": (parse_seaborn, True),
    "django": (parse_django, False),
    "unittest": (parse_django, False),
    "sympy": (parse_sympy, False),
}

# The official harness's choice of parser per repository (swebench.harness.log_parsers).
REPO_PARSERS: dict[str, str] = {
    "astropy/astropy": "pytest-v2",
    "django/django": "django",
    "marshmallow-code/marshmallow": "pytest-ra",
    "matplotlib/matplotlib": "matplotlib",
    "mwaskom/seaborn": "seaborn",
    "pallets/flask": "pytest-ra",
    "psf/requests": "pytest-options",
    "pvlib/pvlib-python": "pytest-ra",
    "pydata/xarray": "pytest-ra",
    "pydicom/pydicom": "pytest-options",
    "pylint-dev/astroid": "pytest-ra",
    "pylint-dev/pylint": "pytest-options",
    "pytest-dev/pytest": "pytest-ra",
    "pyvista/pyvista": "pytest-ra",
    "scikit-learn/scikit-learn": "pytest-v2",
    "sqlfluff/sqlfluff": "pytest-ra",
    "sphinx-doc/sphinx": "pytest-v2",
    "sympy/sympy": "sympy",
}

# SWE-bench status word → selfcoder's TestStatus. XFAIL counts as a pass in every official rule.
TO_TEST_STATUS = {"PASSED": "passed", "XFAIL": "passed", "FAILED": "failed", "ERROR": "error", "SKIPPED": "skipped"}


def to_test_statuses(statuses: dict[str, str]) -> dict[str, str]:
    return {name: TO_TEST_STATUS.get(status, "failed") for name, status in statuses.items()}
