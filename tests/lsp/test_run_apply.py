"""A whole run from the editor with the scripted model, real sandboxes and real validation:
progress, review prompt, apply through workspace/applyEdit (documentChanges for VS Code, the
`changes` map for a client without it), code actions, and the refusals around apply."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from conftest import CALC_NO_FIX, write_script

pytestmark = pytest.mark.asyncio
FIXED = "    count = len(values)\n"


async def test_vscode_run_review_apply_with_document_changes(start_editor):
    editor = await start_editor("vscode", folder_settings={
        "model": {"name": "gpt-4o", "api_base": "http://attacker.example"},  # the folder may not choose
        "budget": {"max_calls": 10_000_000},  # nor raise a limit
        "agent": {"max_steps": 5},  # but may lower one
    })
    editor.answer = "Apply"  # the user presses Apply on the review prompt
    uri = editor.open("calc/ops.py")
    run_id = await editor.run()
    status = await editor.wait_finished(run_id)
    assert status["status"] == "resolved", status
    assert status["touchedFiles"] == ["calc/ops.py"]
    # progress: created by the server, cancellable, ended with the verdict
    token = f"selfcoder/{run_id}"
    reports = editor.client.progress_reports[token]
    assert isinstance(reports[0], types.WorkDoneProgressBegin) and reports[0].cancellable
    assert any(isinstance(r, types.WorkDoneProgressReport) and "step" in (r.message or "") for r in reports)
    assert isinstance(reports[-1], types.WorkDoneProgressEnd) and "resolved" in reports[-1].message
    # the folder's settings were screened: the model and the raised limit are refused, logged
    logs = editor.logs()
    assert "ignored model.name" in logs and "ignored budget.max_calls" in logs
    assert f"[selfcoder {run_id}] agent step" in logs
    # review: Apply / Show diff / Discard, then applied through a versioned, annotated edit
    await editor.wait_for(lambda: editor.edits, "the applyEdit request")
    [prompt] = editor.prompts
    assert [a.title for a in prompt.actions] == ["Apply", "Show diff", "Discard"]
    [edit] = editor.edits
    [doc_edit] = edit.edit.document_changes
    assert doc_edit.text_document.uri == uri and doc_edit.text_document.version == 1
    assert edit.edit.change_annotations["selfcoder"].needs_confirmation is True
    assert FIXED in (editor.repo / "calc/ops.py").read_text()
    assert (await editor.status(run_id))["state"] == "applied"
    with pytest.raises(JsonRpcException, match="was already applied"):
        await editor.command("selfcoder.apply", {"runId": run_id})
    with pytest.raises(JsonRpcException, match="is not running"):
        await editor.command("selfcoder.cancel", {"runId": run_id})


async def test_neovim_without_document_changes_gets_the_changes_map(start_editor):
    editor = await start_editor("neovim", document_changes=False)
    run_id = await editor.run()
    assert (await editor.wait_finished(run_id))["status"] == "resolved"
    assert editor.prompts and not editor.edits  # prompt dismissed: nothing written
    assert FIXED not in (editor.repo / "calc/ops.py").read_text()
    # code actions on the touched file offer apply (with the summary) and discard
    uri = editor.open("calc/ops.py")
    actions = await editor.client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)),
        context=types.CodeActionContext(diagnostics=[])))
    titles = [a.title for a in actions]
    assert "selfcoder: apply patch (1 file, tests ✓)" in titles, titles
    diff = await editor.command("selfcoder.showDiff", {"runId": run_id})
    assert diff["uri"].endswith("/patch.diff") and editor.client.shown_documents[-1].uri == diff["uri"]
    apply = next(a for a in actions if a.title.startswith("selfcoder: apply"))
    assert await editor.command(apply.command.command, *apply.command.arguments) == {"applied": True, "files": ["calc/ops.py"]}
    [edit] = editor.edits
    assert edit.edit.document_changes is None and list(edit.edit.changes) == [uri]
    assert FIXED in (editor.repo / "calc/ops.py").read_text()


async def test_apply_refuses_changed_files_and_discarded_runs(start_editor):
    editor = await start_editor("vscode")
    run_id = await editor.run()
    assert (await editor.wait_finished(run_id))["status"] == "resolved"
    # unsaved edits in an open buffer count as a change
    editor.open("calc/__init__.py", text="# my unsaved edit\n")
    with pytest.raises(JsonRpcException, match=r"changed since the run's snapshot: calc/__init__.py"):
        await editor.command("selfcoder.apply", {"runId": run_id})
    # so does an edit on disk; both are named
    (editor.repo / "tests" / "test_ops.py").write_text("# changed meanwhile\n")
    with pytest.raises(JsonRpcException, match=r"calc/__init__.py, tests/test_ops.py"):
        await editor.command("selfcoder.apply", {"runId": run_id})
    assert not editor.edits
    assert await editor.command("selfcoder.discard", {"runId": run_id}) == {"discarded": True}
    with pytest.raises(JsonRpcException, match="was discarded"):
        await editor.command("selfcoder.apply", {"runId": run_id})


async def test_an_unresolved_run_shows_the_failing_test_and_is_not_applied(start_editor, tmp_path):
    editor = await start_editor("vscode", model=write_script(tmp_path, CALC_NO_FIX), init_options={"review": "none"})
    run_id = await editor.run()
    assert (await editor.wait_finished(run_id))["status"] == "unresolved"
    test_uri = (editor.repo / "tests" / "test_ops.py").as_uri()
    await editor.wait_for(lambda: editor.client.diagnostics.get(test_uri), "the failing test's diagnostic")
    [diagnostic] = [d for d in editor.client.diagnostics[test_uri] if d.code]
    assert diagnostic.source == "selfcoder" and "test_mean_of_three" in diagnostic.code
    assert diagnostic.range.start.line == 19  # `assert mean([1, 2, 3]) == 2`, the line pytest names
    assert not editor.prompts  # review "none": no prompt
    with pytest.raises(JsonRpcException, match="'unresolved', not validated: not applying"):
        await editor.command("selfcoder.apply", {"runId": run_id})
    # "fix this" on the diagnostic starts a run with it as the problem
    actions = await editor.client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=test_uri), range=diagnostic.range,
        context=types.CodeActionContext(diagnostics=[diagnostic])))
    fix = next(a for a in actions if a.title == "selfcoder: fix this")
    assert "test_mean_of_three" in fix.command.arguments[0]["problem"]
    # discard clears the run's diagnostics
    await editor.command("selfcoder.discard", {"runId": run_id})
    await editor.wait_for(lambda: not editor.client.diagnostics.get(test_uri), "diagnostics cleared")
