"""The editor's review of a run whose agent wrote a reproduction test (issue 17): the review
prompt, the run's status and the progress's end say which file of the diff it is and that the
verdict does not count it; Apply writes it too. Real sandboxes and validation, scripted model."""

from __future__ import annotations

import pytest

from conftest import write_script
from selfcoder.validate.protected import REPRODUCTION_NOTE

pytestmark = pytest.mark.asyncio
FILE = "test_reproduce_issue.py"
REPRO = "```python\nfrom calc import mean\n\n\ndef test_mean_of_three_is_two():\n    assert mean([1, 2, 3]) == 2\n```\n"
MEAN_FIX = ("```python\ndef mean(values):\n    \"\"\"Arithmetic mean of a non-empty list of numbers.\"\"\"\n"
            "    total = sum(values)\n    count = len(values)\n    return total / count\n```\n")
MEAN_TEST = "def test_mean_of_three():\n    assert mean([1, 2, 3]) == 2\n"


async def test_the_review_names_the_agents_reproduction_test_and_apply_writes_it(start_editor, repo, tmp_path):
    tests = repo / "tests" / "test_ops.py"
    tests.write_text(tests.read_text().replace(MEAN_TEST, ""))  # every test passes: only the problem tells the bug
    editor = await start_editor("vscode", model=write_script(tmp_path, REPRO, MEAN_FIX))
    editor.answer = "Apply"
    run_id = await editor.run()
    status = await editor.wait_finished(run_id)
    assert status["status"] == "resolved", status
    assert status["reproductionTests"] == [FILE] and sorted(status["touchedFiles"]) == ["calc/ops.py", FILE]
    await editor.wait_for(lambda: editor.edits, "the applyEdit request")
    [prompt] = editor.prompts
    assert f"{REPRODUCTION_NOTE}: {FILE} (fails before, passes after)" in prompt.message and "Apply adds it too" in prompt.message
    end = editor.client.progress_reports[f"selfcoder/{run_id}"][-1]
    assert f"{REPRODUCTION_NOTE}: {FILE}" in end.message
    assert (editor.repo / FILE).read_text().startswith("from calc import mean")
    assert "    count = len(values)\n" in (editor.repo / "calc/ops.py").read_text()
