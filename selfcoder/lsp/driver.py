"""Start a run and drive it: the runner in a worker thread, its events on the server's loop.

`start_run` answers at once with the run id; the run itself goes in a thread (the runner
blocks), and each event it reports is handed to the event loop (`call_soon_threadsafe`), where
it becomes a progress report and a transcript line. The server never waits on a run, so other
requests (status, another folder's run, cancel) are answered meanwhile.

Cancel (the command, the progress's cancel button, discard) calls the run's `CancelToken`,
which closes its sandbox at once; the runner then records `cancelled`.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from lsprotocol import types

from selfcoder.core.safe_text import visible
from selfcoder.core.errors import SelfcoderError
from selfcoder.core.events import AgentEvent, PhaseStarted, RunEvent, RunStarted, VerdictReady
from selfcoder.lsp.args import RunArgs
from selfcoder.lsp.review import reproduction_note
from selfcoder.lsp.runs import FINISHED, RUNNING, RequestError, RunRecord

MAX_CONTEXT_CHARS = 4000


def _plain(text: str, limit: int) -> str:
    """`one_line` for LSP text (no Rich markup escaping needed there)."""
    shown = visible(str(text).replace("\n", " ").replace("\t", " "))
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def problem_with_location(server, args: RunArgs) -> str:
    """The problem, plus the file and the selected lines when the request names them."""
    if not args.uri:
        return args.problem
    from selfcoder.lsp.args import path_of_uri

    path = path_of_uri(args.uri, "uri", "selfcoder.run")
    if not path.is_relative_to(args.folder):
        return args.problem
    rel = path.relative_to(args.folder)
    if args.range is None:
        return f"{args.problem}\n\nFile: {rel}"
    start, end = args.range.start.line, args.range.end.line
    try:
        lines = server.workspace.get_text_document(args.uri).source.splitlines()
    except (OSError, UnicodeDecodeError):
        lines = []
    snippet = "\n".join(lines[start:end + 1])[:MAX_CONTEXT_CHARS]
    return f"{args.problem}\n\nLocation: {rel}, lines {start + 1}-{end + 1}:\n```\n{snippet}\n```"


async def start_run(server, args: RunArgs) -> dict:
    """Check the request, create the run record and its task; return `{runId}` at once."""
    from selfcoder.solve.runner import new_run_id
    from selfcoder.core.scaffold import resolve_scaffold
    from selfcoder.solve.attempts import make_task

    folder = args.folder
    if not folder.is_dir():
        raise RequestError(f"{folder}: not a directory; `folderUri` must name a repository folder")
    busy = server.runs.running_in(folder)
    if busy is not None:
        raise RequestError(f"a run is already going in {folder} ({busy.run_id}): cancel it or wait for it")
    folder_settings = await server.config.for_folder(folder)
    settings = folder_settings.settings
    try:
        if args.agent:
            if not server.config.agent_allowed(args.agent):
                raise RequestError(f"agent '{args.agent}': choose agents in your own settings (initializationOptions "
                                   f"agent.node), or one `selfcoder.listAgents` lists")
            settings.agent.node = args.agent
        scaffold = resolve_scaffold(settings.agent.node)
        task = make_task(folder, problem_with_location(server, args), folder_settings.test_cmd)
    except SelfcoderError as e:
        raise RequestError(str(e)) from None
    for warning in folder_settings.warnings:
        server.window_log_message(types.LogMessageParams(type=types.MessageType.Warning,
                                                         message=f"selfcoder: {visible(warning)}"))
    record = RunRecord(run_id=new_run_id(), folder=folder, problem=args.problem)
    server.runs.add(record)
    server.diagnostics.clear(folder)  # the next run clears the last one's test results
    record.task = asyncio.create_task(_drive(server, record, task, settings, scaffold))
    return {"runId": record.run_id}


async def _drive(server, record: RunRecord, task, settings, scaffold: Path) -> None:
    from selfcoder.core.worktree_apply import touched_files
    from selfcoder.solve.attempts import solve

    loop = asyncio.get_running_loop()
    progress = await server.progress.begin(record)

    def on_event(event: RunEvent) -> None:  # in the worker thread
        loop.call_soon_threadsafe(_on_event, server, record, event)

    try:
        result = await _in_thread(record, lambda: solve(task, settings, scaffold=scaffold, first_run_id=record.run_id,
                                                        cancel=record.token, on_event=on_event).best)
    except Exception as e:  # noqa: BLE001 - a runner bug must not take the server down
        record.error = f"internal error: {type(e).__name__}: {e}"
        record.state, record.phase = FINISHED, "done"
        progress.end(f"error: {record.error}")
        server.show(types.MessageType.Error, f"selfcoder: run {record.run_id} failed: {_plain(record.error, 300)}")
        return
    record.result, record.run_dir = result, Path(result.run_dir)
    record.touched = touched_files(result.patch) if result.patch.strip() else []
    if record.state == RUNNING:
        record.state = FINISHED
    record.phase = "done"
    server.diagnostics.publish_verdict(record)
    summary = f"{result.status}" + (f": {_plain(result.message, 200)}" if result.message else "") + reproduction_note(record)
    progress.end(summary)
    server.log(record, f"finished: {summary}")
    if record.state == FINISHED:
        await server.review.offer(record)


def _in_thread(record: RunRecord, work):
    """Run `work` in its own (non-daemon) thread and await its result. Not the loop's default
    executor: asyncio.run() waits for that one on exit, so a client that goes away would leave the
    server waiting for a run; `cancel_all` + `join_all` stop runs on exit instead."""
    loop = asyncio.get_running_loop()
    future = loop.create_future()

    def deliver(ok: bool, value) -> None:
        if not future.done():
            future.set_result(value) if ok else future.set_exception(value)

    def target() -> None:
        try:
            outcome = (True, work())
        except BaseException as e:  # noqa: BLE001 - handed to the awaiting task
            outcome = (False, e)
        try:
            loop.call_soon_threadsafe(deliver, *outcome)
        except RuntimeError:  # the loop is closed: the server is exiting
            pass

    record.thread = threading.Thread(target=target, name=f"selfcoder-run-{record.run_id}")
    record.thread.start()
    return future


def cancel_all(server, reason: str = "the language server is shutting down") -> None:
    for record in server.runs.all():
        if record.state == RUNNING:
            record.token.cancel(reason)


def join_all(server, timeout: float = 60.0) -> None:
    """Wait (bounded) for cancelled runs to clean up their sandboxes."""
    for record in server.runs.all():
        if record.thread is not None:
            record.thread.join(timeout)


def _on_event(server, record: RunRecord, event: RunEvent) -> None:
    """One runner event, on the loop: progress report and transcript line."""
    progress = server.progress.of(record)
    if isinstance(event, RunStarted):
        record.run_dir = Path(event.run_dir)
        server.log(record, f"started in {event.run_dir}")
    elif isinstance(event, PhaseStarted):
        record.phase = event.phase
        progress.report({"sandbox": "starting the sandbox", "agent": "agent working",
                         "validate": "running the tests on the patch"}.get(event.phase, event.phase))
        server.log(record, f"phase: {event.phase}")
    elif isinstance(event, AgentEvent):
        fields = " ".join(f"{k}={v}" for k, v in event.data.items())
        server.log(record, f"agent {event.kind}: {fields}")
        if event.kind == "step":
            n = event.data.get("n")
            record.steps = n if isinstance(n, int) else record.steps + 1
            action = _plain(event.data.get("action", ""), 40)
            progress.report(f"step {record.steps}: {action} {_plain(event.data.get('detail', ''), 80)}".strip())
    elif isinstance(event, VerdictReady):
        progress.report(f"tests: {event.status}")
        server.log(record, f"verdict: {event.status} {event.message}")

