"""The Task format: SWE-bench instances (lists or JSON strings) plus repo_path and test_cmd."""

from pathlib import Path

import pytest

from selfcoder.core.errors import SelfcoderError
from selfcoder.core.task import Task, load_tasks

FIXTURES = Path(__file__).parent / "fixtures"


def test_the_fixture_task_set_loads():
    tasks = load_tasks(FIXTURES / "tasks.jsonl")
    assert [t.instance_id for t in tasks] == ["calc_py-mean", "wordcount_sh-empty"]
    assert tasks[0].fail_to_pass == ["tests/test_ops.py::test_mean_of_three"]
    assert tasks[1].test_cmd == "./run_tests.sh"
    assert tasks[0].repo_path == FIXTURES / "repos" / "calc_py" and tasks[0].repo_path.is_dir()
    assert tasks[0].to_json()["FAIL_TO_PASS"] == tasks[0].fail_to_pass


def test_swebench_json_string_lists_are_read():
    task = Task.model_validate({"instance_id": "x", "problem_statement": "p", "FAIL_TO_PASS": '["a::b"]',
                                "PASS_TO_PASS": ""})
    assert (task.fail_to_pass, task.pass_to_pass) == (["a::b"], [])


def test_a_bad_line_names_the_file_and_line(tmp_path):
    path = tmp_path / "tasks.jsonl"
    path.write_text('{"instance_id": "ok", "problem_statement": "p"}\n{"instance_id": "bad", "problem_statement": " "}\n')
    with pytest.raises(SelfcoderError, match=r"tasks.jsonl:2: problem_statement: .*empty"):
        load_tasks(path)
