"""The selfcoder language server (pygls 2): the agent loop — ask, watch, review, apply — in any
LSP editor.

Commands (`workspace/executeCommand`, one object argument each):

    selfcoder.run        {problem, folderUri, uri?, range?, agent?} → {runId}, at once
    selfcoder.cancel     {runId}            selfcoder.status    {runId?} → {runs: [...]}
    selfcoder.showDiff   {runId}            selfcoder.listAgents {} → {agents: [...]}
    selfcoder.apply      {runId, files?}    selfcoder.discard   {runId}

Code actions: "selfcoder: fix this" on a diagnostic or a selection; "apply patch (N files,
tests ✓)" and "discard" on files a finished run changes. Bad requests are ResponseErrors with a
message (see runs.py); the server keeps serving. `make_server()` builds a fresh server: no
module-level state.
"""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from selfcoder import __version__
from selfcoder.core.safe_text import visible
from selfcoder.lsp import args as A
from selfcoder.lsp.driver import cancel_all, start_run
from selfcoder.lsp.progress import ProgressTable
from selfcoder.lsp.review import Review
from selfcoder.lsp.runs import FINISHED, RUNNING, BadArguments, RequestError, RunRecord, RunTable
from selfcoder.lsp.state import DiagnosticsTable, FolderConfig

RUN, CANCEL, SHOW_DIFF, APPLY, DISCARD, STATUS, LIST_AGENTS = (
    "selfcoder.run", "selfcoder.cancel", "selfcoder.showDiff", "selfcoder.apply", "selfcoder.discard",
    "selfcoder.status", "selfcoder.listAgents")


class SelfcoderServer(LanguageServer):
    def __init__(self, trusted_init_options: bool = True) -> None:
        super().__init__("selfcoder", __version__)
        self.runs = RunTable()
        self.config = FolderConfig(self, trusted_init_options)
        self.diagnostics = DiagnosticsTable(self)
        self.progress = ProgressTable(self)
        self.review = Review(self)

    def show(self, kind: types.MessageType, message: str) -> None:
        self.window_show_message(types.ShowMessageParams(type=kind, message=visible(message)))

    def log(self, record: RunRecord, message: str) -> None:
        """A transcript line (agent text is untrusted: control characters are shown escaped)."""
        self.window_log_message(types.LogMessageParams(type=types.MessageType.Log,
                                                       message=visible(f"[selfcoder {record.run_id}] {message}")))

    def folder_of(self, uri: str) -> Path | None:
        """The workspace folder (longest match) that holds the document `uri`."""
        try:
            path = A.path_of_uri(uri, "uri", "codeAction")
        except BadArguments:  # not a file:// document
            return None
        folders = [A.path_of_uri(f.uri, "uri", "") for f in self.workspace.folders.values()
                   if f.uri.startswith("file:")]
        if self.workspace.root_uri and self.workspace.root_uri.startswith("file:"):
            folders.append(A.path_of_uri(self.workspace.root_uri, "uri", ""))
        inside = [f for f in folders if path.is_relative_to(f)]
        return max(inside, key=lambda f: len(f.parts)) if inside else None


def make_server(trusted_init_options: bool = True) -> SelfcoderServer:
    """`trusted_init_options`: False over TCP (folder_settings.py says why)."""
    server = SelfcoderServer(trusted_init_options)

    @server.feature(types.INITIALIZE)
    def initialize(ls: SelfcoderServer, params: types.InitializeParams):
        ls.config.set_init_options(params.initialization_options)

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: SelfcoderServer, *args):
        cancel_all(ls)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: SelfcoderServer, params: types.DidChangeConfigurationParams):
        ls.config.changed()  # settings are pulled again (workspace/configuration) by the next run

    @server.feature(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)
    def progress_cancel(ls: SelfcoderServer, params: types.WorkDoneProgressCancelParams):
        record = ls.progress.run_of_token(params.token)
        if record is not None and record.state == RUNNING:
            record.token.cancel("cancelled from the editor")
            ls.log(record, "cancel requested (progress)")

    @server.command(RUN)
    async def run_command(ls: SelfcoderServer, *args):
        return await start_run(ls, A.run_args(args, ls.protocol._converter))

    @server.command(CANCEL)
    def cancel_command(ls: SelfcoderServer, *args):
        run_id, _ = A.run_id_arg(CANCEL, args)
        record = ls.runs.get(run_id)
        if record.state != RUNNING:
            raise RequestError(f"run {run_id} is not running (it is {record.state}"
                               + (f", {record.status})" if record.status else ")"))
        record.token.cancel("cancelled from the editor")
        ls.log(record, "cancel requested")
        return {"cancelled": True}

    @server.command(SHOW_DIFF)
    async def show_diff_command(ls: SelfcoderServer, *args):
        run_id, _ = A.run_id_arg(SHOW_DIFF, args)
        return await ls.review.show_diff(ls.runs.get(run_id))

    @server.command(APPLY)
    async def apply_command(ls: SelfcoderServer, *args):
        run_id, obj = A.run_id_arg(APPLY, args)
        record = ls.runs.get(run_id)
        return await ls.review.apply(record, A.files_arg(APPLY, obj))

    @server.command(DISCARD)
    def discard_command(ls: SelfcoderServer, *args):
        run_id, _ = A.run_id_arg(DISCARD, args)
        return ls.review.discard(ls.runs.get(run_id))

    @server.command(STATUS)
    def status_command(ls: SelfcoderServer, *args):
        obj = A.one_object(STATUS, args) if args else {}
        if obj.get("runId") is not None:
            return {"runs": [ls.runs.get(obj["runId"]).to_json()]}
        return {"runs": [r.to_json() for r in ls.runs.all()]}

    @server.command(LIST_AGENTS)
    def list_agents_command(ls: SelfcoderServer, *args):
        return {"agents": ls.config.agents()}

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.Source]))
    def code_actions(ls: SelfcoderServer, params: types.CodeActionParams):
        return code_actions_for(ls, params)

    return server


def code_actions_for(ls: SelfcoderServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    folder = ls.folder_of(uri)
    if folder is None:
        return []
    actions: list[types.CodeAction] = []
    rel = A.path_of_uri(uri, "uri", "").relative_to(folder).as_posix()
    for record in ls.runs.all():
        if record.folder == folder and record.state == FINISHED and rel in record.touched:
            if record.validated:
                actions.append(types.CodeAction(
                    title=f"selfcoder: apply patch ({record.summary()})", kind=types.CodeActionKind.Source,
                    command=types.Command(title="apply", command=APPLY, arguments=[{"runId": record.run_id}])))
            actions.append(types.CodeAction(
                title=f"selfcoder: discard run {record.run_id}", kind=types.CodeActionKind.Source,
                command=types.Command(title="discard", command=DISCARD, arguments=[{"runId": record.run_id}])))
    selection = params.range.start != params.range.end
    diagnostics = list(params.context.diagnostics)
    if diagnostics or selection:
        if diagnostics:
            problem = "Fix this problem reported in the editor:\n" + "\n".join(
                f"- {rel}:{d.range.start.line + 1}: {d.message}" for d in diagnostics[:10])
            where = diagnostics[0].range
        else:
            problem = "Fix the problem in the selected code."
            where = params.range
        actions.append(types.CodeAction(
            title="selfcoder: fix this", kind=types.CodeActionKind.QuickFix, diagnostics=diagnostics or None,
            command=types.Command(title="selfcoder: fix this", command=RUN, arguments=[{
                "problem": problem, "folderUri": folder.as_uri(), "uri": uri,
                "range": ls.protocol._converter.unstructure(where)}])))
    return actions
