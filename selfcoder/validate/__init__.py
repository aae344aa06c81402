"""Validation: apply a patch in a fresh sandbox, run the tests, decide FAIL_TO_PASS / PASS_TO_PASS.

    from selfcoder.validate import ValidationTask, validate
    verdict = validate(ValidationTask(source=repo, fail_to_pass=[...]), patch, backend="local")
    verdict.status  # resolved | unresolved | patch_failed | test_cmd_failed | error

Modules: `verdict` (the data), `workspace` (the sandbox's copy: patch fallback chain, git
checkpoints), `protected` (the files that decide a verdict, restored from the snapshot),
`canary` + `tamper` (forged reports: canary tests, the diff scan), `reproduction` (the agent's
own new tests, run without and with the patch for the user, never for the verdict), `parsers` +
`junit` + `swe_logs` (test output → statuses), `report` (the resolved rule), `validator` (the steps).
"""

from selfcoder.validate.parsers import LogParser, get_parser, parser_names, register_parser
from selfcoder.validate.validator import validate
from selfcoder.validate.verdict import DEFAULT_TEST_CMD, TestRun, TestsReport, ValidationTask, Verdict

__all__ = [
    "DEFAULT_TEST_CMD",
    "LogParser",
    "TestRun",
    "TestsReport",
    "ValidationTask",
    "Verdict",
    "get_parser",
    "parser_names",
    "register_parser",
    "validate",
]
