"""A real LSP client (pytest-lsp) driving `selfcoder lsp` in a subprocess, with the capability
profiles of real editors, answering what the server asks: `workspace/applyEdit` (applied to the
files on disk, as an editor applies to its buffers and saves), `window/showMessageRequest` (a
scripted choice) and `workspace/configuration` (per-folder settings, as a cloned repository's
`.vscode/settings.json` would give). The model is the scripted model, named in
`initializationOptions` — the user's own settings."""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Union

import pytest
import pytest_asyncio
import yaml
from lsprotocol import types
from pytest_lsp import client_capabilities, make_test_lsp_client

from edit_apply import apply_workspace_edit
from waiting import wait_until_async

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PROFILES = {"neovim": "neovim@v0.11.0", "vscode": "visual-studio-code@v1.65.2"}


def search_replace(path: str, search: str, replace: str) -> str:
    return f"I will fix it.\n\n{path}\n<<<<<<< SEARCH\n{search}\n=======\n{replace}\n>>>>>>> REPLACE\n"


CALC_FIX = search_replace("calc/ops.py", "    count = len(values) - 1", "    count = len(values)")
CALC_NO_FIX = search_replace("calc/ops.py", '    """Arithmetic mean of a non-empty list of numbers."""',
                             '    """Arithmetic mean of a list of numbers."""')
CALC_PROBLEM = "calc.mean([1, 2, 3]) returns 3.0 instead of 2.0: the mean of a list is computed wrongly."


class Editor:
    """The test's view of one client session: the client plus what the server sent it."""

    def __init__(self, client, repo: Path, tmp: Path):
        self.client, self.repo, self.tmp = client, repo, tmp
        self.edits: list[types.ApplyWorkspaceEditParams] = []
        self.prompts: list[types.ShowMessageRequestParams] = []
        self.answer: str | None = None  # the button the "user" presses on a showMessageRequest
        self.open_versions: dict[str, int] = {}

    async def wait_for(self, predicate, what: str, timeout: float = 60) -> None:
        await wait_until_async(predicate, timeout, f"timed out waiting for {what}", interval=0.1)

    async def command(self, name: str, *arguments):
        return await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=name, arguments=list(arguments)))

    async def run(self, problem: str = CALC_PROBLEM, **extra) -> str:
        answer = await self.command("selfcoder.run", {"problem": problem, "folderUri": self.repo.as_uri(), **extra})
        return answer["runId"]

    async def status(self, run_id: str) -> dict:
        return (await self.command("selfcoder.status", {"runId": run_id}))["runs"][0]

    async def wait_finished(self, run_id: str, timeout: float = 240) -> dict:
        last: list[dict] = [{}]

        async def finished():
            last[0] = await self.status(run_id)
            return last[0] if last[0]["state"] != "running" else None

        return await wait_until_async(finished, timeout, f"run {run_id} still running", interval=0.5,
                                      detail=lambda: str(last[0]))

    def open(self, rel: str, text: str | None = None, version: int = 1) -> str:
        uri = (self.repo / rel).as_uri()
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
            uri=uri, language_id="python", version=version, text=text if text is not None else (self.repo / rel).read_text())))
        self.open_versions[uri] = version
        return uri

    def logs(self) -> str:
        return "\n".join(m.message for m in self.client.log_messages)


def _fix_code_action_union(client) -> None:
    """lsprotocol 2025.0.0 reads any item with a "command" key as a `Command`, so a CodeAction
    that carries a command comes back as a Command with garbage in it; tell them apart as editors
    do (a Command's "command" is a string)."""
    converter = client.protocol._converter

    def hook(obj, _):
        kind = types.Command if isinstance(obj.get("command"), str) else types.CodeAction
        return converter.structure(obj, kind)

    converter.register_structure_hook(Union[types.Command, types.CodeAction], hook)


def capabilities(profile: str, *, document_changes: bool = True) -> types.ClientCapabilities:
    caps = client_capabilities(PROFILES[profile])
    if not document_changes:
        caps.workspace.workspace_edit.document_changes = False
        caps.workspace.workspace_edit.resource_operations = None
        caps.workspace.workspace_edit.change_annotation_support = None
    return caps


def write_script(tmp: Path, *replies: str) -> str:
    """The `scripted/<file>` model name that replays `replies`."""
    path = tmp / f"script-{len(list(tmp.glob('script-*.yaml')))}.yaml"
    path.write_text(yaml.safe_dump({"replies": list(replies)}))
    return f"scripted/{path}"


@pytest.fixture
def sandbox_env(tmp_path):
    root = Path(tempfile.mkdtemp(prefix="selfcoder-test-sandboxes-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def repo(tmp_path):
    target = tmp_path / "calc_py"
    shutil.copytree(FIXTURES / "repos" / "calc_py", target)
    return target


@pytest_asyncio.fixture
async def start_editor(tmp_path, repo, sandbox_env):
    """start_editor(profile, init_options=..., document_changes=...) -> Editor (initialised)."""
    sessions = []

    async def start(profile: str = "vscode", *, init_options: dict | None = None, model: str | None = None,
                    document_changes: bool = True, folder_settings: dict | None = None) -> Editor:
        client = make_test_lsp_client()
        _fix_code_action_union(client)
        editor = Editor(client, repo, tmp_path)

        @client.feature(types.WORKSPACE_APPLY_EDIT)
        def apply_edit(params: types.ApplyWorkspaceEditParams):
            editor.edits.append(params)
            reason = apply_workspace_edit(params.edit, editor.open_versions)
            return types.ApplyWorkspaceEditResult(applied=reason is None, failure_reason=reason)

        @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
        def show_message_request(params: types.ShowMessageRequestParams):
            editor.prompts.append(params)
            return types.MessageActionItem(title=editor.answer) if editor.answer else None

        if folder_settings is not None:
            client.set_configuration(folder_settings, section="selfcoder", scope_uri=repo.as_uri())
        env = {"SELFCODER_CONFIG": str(tmp_path / "no-user-config.toml"), "SELFCODER_SANDBOX_ROOT": str(sandbox_env),
               "PATH": "/usr/local/bin:/usr/bin:/bin"}
        await client.start_io(sys.executable, "-m", "selfcoder", "lsp", env=env)
        options = {"model": {"name": model or write_script(tmp_path, CALC_FIX)},
                   "sandbox": {"timeout_s": 120}, "agent": {"max_steps": 6, "time_limit_s": 120}}
        options.update(init_options or {})
        await client.initialize_session(types.InitializeParams(
            capabilities=capabilities(profile, document_changes=document_changes),
            root_uri=repo.as_uri(), workspace_folders=[types.WorkspaceFolder(uri=repo.as_uri(), name=repo.name)],
            initialization_options=options))
        sessions.append(client)
        return editor

    yield start
    for client in sessions:
        try:
            await asyncio.wait_for(client.shutdown_session(), 60)
        finally:
            await client.stop()
