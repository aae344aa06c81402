"""Task sets, predictions and the grading rule: bad input is reported and the rest goes on."""

from __future__ import annotations

import json

import pytest

from selfcoder.core.errors import SelfcoderError
from selfcoder.eval import official_rule
from selfcoder.eval.predictions import builtin_predictions, read_predictions, write_predictions
from selfcoder.eval.tasks import default_test_cmd, load_task_set, log_parser_of, select
from selfcoder.core.task import Task


def instance(i: str, **kw) -> dict:
    return {"instance_id": i, "problem_statement": "p", "repo": "o/r", "FAIL_TO_PASS": '["t1"]',
            "PASS_TO_PASS": "[]", "repo_path": "repo", **kw}


def test_bad_lines_are_reported_with_their_number_and_the_rest_loads(tmp_path):
    path = tmp_path / "tasks.jsonl"
    path.write_text("\n".join([json.dumps(instance("a")), "{not json", json.dumps({"instance_id": "b"}),
                               "", json.dumps(instance("c")), json.dumps(instance("a"))]) + "\n")
    task_set = load_task_set(path)
    assert [t.instance_id for t in task_set.tasks] == ["a", "c"]
    assert [p.split(": ")[0] for p in task_set.problems] == [f"{path}:2", f"{path}:3", f"{path}:6"]
    assert "problem_statement" in task_set.problems[1] and "twice" in task_set.problems[2]
    assert task_set.tasks[0].fail_to_pass == ["t1"]  # F2P as a JSON string, as in SWE-bench dumps
    assert task_set.tasks[0].repo_path == tmp_path / "repo"


def test_unknown_instance_ids_are_named(tmp_path):
    tasks = [Task.model_validate(instance(i)) for i in ("a", "b", "c")]
    assert [t.instance_id for t in select(tasks, ["c", "a"], None)] == ["a", "c"]
    assert [t.instance_id for t in select(tasks, None, 2)] == ["a", "b"]
    with pytest.raises(SelfcoderError, match="unknown instance id.*zz"):
        select(tasks, ["a", "zz"], None)


def test_predictions_round_trip_in_the_official_format_and_bad_lines_are_problems(tmp_path):
    path = tmp_path / "preds.jsonl"
    write_predictions(path, [{"instance_id": "a", "model_name_or_path": "m", "model_patch": "diff"}])
    assert json.loads(path.read_text()) == {"instance_id": "a", "model_name_or_path": "m", "model_patch": "diff"}
    path.write_text(path.read_text() + "oops\n" + json.dumps({"model_patch": "x"}) + "\n")
    found, problems = read_predictions(path)
    assert list(found) == ["a"] and len(problems) == 2 and problems[0].startswith(f"{path}:2")
    tasks = [Task.model_validate(instance("a", patch="GOLD"))]
    assert builtin_predictions("gold", tasks)["a"]["model_patch"] == "GOLD"
    assert builtin_predictions("empty", tasks)["a"]["model_patch"] == ""


def test_official_test_commands_and_parsers_for_known_repositories():
    test_patch = "diff --git a/{0} b/{0}\n--- a/{0}\n+++ b/{0}\n@@ -1 +1 @@\n-a\n+b\n"
    sympy = Task.model_validate(instance("s", repo="sympy/sympy", test_patch=test_patch.format("sympy/core/tests/test_basic.py")))
    assert default_test_cmd(sympy).endswith("bin/test -C --verbose sympy/core/tests/test_basic.py")
    assert log_parser_of(sympy) == "sympy"
    django = Task.model_validate(instance("d", repo="django/django", test_patch=test_patch.format("tests/model_fields/test_uuid.py")))
    assert default_test_cmd(django).endswith("--parallel 1 model_fields.test_uuid")
    assert log_parser_of(django) == "django"
    plain = Task.model_validate(instance("p", test_cmd="python3 -m unittest -v"))
    assert log_parser_of(plain) == "unittest"
    assert log_parser_of(Task.model_validate(instance("q", test_cmd="python -m pytest -q"))) == "pytest-ra"


@pytest.mark.parametrize("statuses,f2p,p2p,expected", [
    ({"a": "passed", "b": "passed"}, ["a"], ["b"], official_rule.FULL),
    ({"a": "passed"}, ["a"], ["missing"], official_rule.NO),  # a missing test counts as failed
    ({"a": "skipped", "b": "passed"}, ["a"], ["b"], official_rule.NO),  # a skipped target test is no fix
    ({"a": "passed", "b": "skipped"}, ["a"], ["b"], official_rule.FULL),  # a skipped old test is no regression
    ({"a": "passed", "c": "error", "b": "passed"}, ["a", "c"], ["b"], official_rule.PARTIAL),
    ({"a": "passed", "b": "failed"}, ["a"], ["b"], official_rule.NO),
    ({"t[x-1]": "passed", "t[x-2]": "passed"}, ["t[x-"], [], official_rule.FULL),  # a truncated parametrized id
    ({"t[x-1]": "passed", "t[x-2]": "failed"}, ["t[x-"], [], official_rule.NO),
])
def test_the_official_rule(statuses, f2p, p2p, expected):
    assert official_rule.resolution_status(official_rule.tests_report(statuses, f2p, p2p, official=False)) == expected


def test_a_failing_command_that_reports_only_passes_grades_nothing():
    assert official_rule.inconsistent_exit(1, {"a": "passed"})
    assert not official_rule.inconsistent_exit(1, {"a": "passed", "b": "failed"})
    assert not official_rule.inconsistent_exit(0, {"a": "passed"})


def test_instances_as_a_comma_list_or_a_file_of_ids(tmp_path):
    from selfcoder.eval.tasks import instance_ids

    listing = tmp_path / "ids.txt"
    listing.write_text("# the ones that failed\nb\nc, a  # and a\n\n")
    assert instance_ids(["a,b", "c"]) == ["a", "b", "c"]
    assert instance_ids([f"@{listing}"]) == ["b", "c", "a"]
    tasks = [Task.model_validate(instance(i)) for i in ("a", "b", "c", "d")]
    assert [t.instance_id for t in select(tasks, instance_ids([f"@{listing}"]), None)] == ["a", "b", "c"]
    with pytest.raises(SelfcoderError, match=r"--instances @.*missing.txt: cannot read the file: No such file"):
        instance_ids([f"@{tmp_path / 'missing.txt'}"])


def test_a_repeated_prediction_keeps_the_last_as_officially_and_names_both_lines_and_an_unknown_id_its_line(tmp_path):
    path = tmp_path / "preds.jsonl"
    rows = [{"instance_id": "a", "model_patch": "first"}, {"instance_id": "zz", "model_patch": "x"},
            {"instance_id": "b", "model_patch": "b"}, {"instance_id": "a", "model_patch": "second"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    found, problems = read_predictions(path, known={"a", "b"})
    assert found["a"]["model_patch"] == "second" and set(found) == {"a", "b"}
    assert problems == [f"{path}:2: a prediction for zz, which is not in the task set",
                        f"{path}:1: the prediction for a is replaced by the one on line 4 (the last one counts, "
                        "as in the official harness)"]
