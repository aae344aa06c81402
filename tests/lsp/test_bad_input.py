"""Bad requests are ResponseErrors with a message that says what is wrong, and the server keeps
serving (each test ends with a request that still works)."""

from __future__ import annotations

import pytest
from pygls.exceptions import JsonRpcException

pytestmark = pytest.mark.asyncio


async def expect_error(editor, command: str, *arguments, match: str) -> str:
    with pytest.raises(JsonRpcException) as info:
        await editor.command(command, *arguments)
    assert match in info.value.message, info.value.message
    return info.value.message


@pytest.mark.parametrize("profile", ["neovim", "vscode"])
async def test_malformed_arguments_and_unknown_runs(start_editor, profile):
    editor = await start_editor(profile)
    await expect_error(editor, "selfcoder.run", match="expected one object argument")
    await expect_error(editor, "selfcoder.run", "fix it", match="expected one object argument")
    await expect_error(editor, "selfcoder.run", {"folderUri": editor.repo.as_uri()}, match="'problem' must be")
    await expect_error(editor, "selfcoder.run", {"problem": "x", "folderUri": "https://example.com/repo"},
                       match="must be a file:// URI")
    await expect_error(editor, "selfcoder.run", {"problem": "x", "folderUri": editor.repo.as_uri(), "range": "1-2"},
                       match="'range' must be an LSP Range")
    for command in ("selfcoder.cancel", "selfcoder.apply", "selfcoder.discard", "selfcoder.showDiff", "selfcoder.status"):
        await expect_error(editor, command, {"runId": "20990101-000000-abcdef"}, match="unknown run '20990101-000000-abcdef'")
    await expect_error(editor, "selfcoder.apply", {"runId": 7}, match="'runId' must be a non-empty string")
    assert (await editor.command("selfcoder.status"))["runs"] == []


async def test_a_folder_that_is_not_a_repository(start_editor, tmp_path):
    editor = await start_editor("vscode")
    missing = tmp_path / "nowhere"
    await expect_error(editor, "selfcoder.run", {"problem": "x", "folderUri": missing.as_uri()}, match="not a directory")
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "notes.txt").write_text("no tests here\n")
    await expect_error(editor, "selfcoder.run", {"problem": "x", "folderUri": plain.as_uri()},
                       match="cannot tell how to run its tests")
    agents = (await editor.command("selfcoder.listAgents"))["agents"]
    assert [a["id"] for a in agents] == ["seed"]


async def test_an_agent_not_in_the_users_settings_is_refused(start_editor, tmp_path):
    editor = await start_editor("vscode")
    await expect_error(editor, "selfcoder.run", {"problem": "x", "folderUri": editor.repo.as_uri(),
                                                 "agent": str(tmp_path)}, match="choose agents in your own settings")
    assert (await editor.command("selfcoder.status"))["runs"] == []
