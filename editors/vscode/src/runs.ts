// The runs this window started: their state (polled with `selfcoder.status` while running, so
// the status bar follows the phase and steps), and the review of a finished run — a real
// `vscode.diff` of each changed file against its patched version, then Apply / Discard through
// the server. The progress notification itself (with its cancel button) is the language
// client's own handling of the server's $/progress.
import * as fs from 'fs';
import * as vscode from 'vscode';
import { ExecuteCommandRequest, LanguageClient } from 'vscode-languageclient/node';
import { applyFilePatch, parsePatch } from './patch';
import { userFlag } from './server';

export interface RunStatus {
  runId: string;
  folderUri: string;
  state: string; // running | finished | applying | applied | discarded
  phase: string;
  status: string; // the verdict once finished (resolved, ...)
  steps: number;
  problem: string;
  message: string | null;
  touchedFiles: string[];
  diffUri: string | null;
}

export const PATCHED_SCHEME = 'selfcoder-patched';
const POLL_MS = 1000;

export class Runs implements vscode.TextDocumentContentProvider {
  private runs = new Map<string, RunStatus>();
  private latestId: string | undefined;
  private patched = new Map<string, string>(); // patched-document uri → text
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly client: () => Promise<LanguageClient | undefined>, private readonly statusBar: vscode.StatusBarItem,
              private readonly output: vscode.OutputChannel) {}

  async exec<T>(command: string, args: object): Promise<T> {
    const client = await this.client(); // waits for a server that is still starting
    if (!client) {
      throw new Error('the selfcoder language server is not running (see the "selfcoder" output)');
    }
    return client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [args] }) as Promise<T>;
  }

  latest(): RunStatus | undefined {
    return this.latestId ? this.runs.get(this.latestId) : undefined;
  }

  async start(args: { problem: string; folderUri: string; uri?: string; range?: object; agent?: string }): Promise<string> {
    const { runId } = await this.exec<{ runId: string }>('selfcoder.run', args);
    this.latestId = runId;
    this.runs.set(runId, { runId, folderUri: args.folderUri, state: 'running', phase: 'starting', status: '', steps: 0,
      problem: args.problem, message: null, touchedFiles: [], diffUri: null });
    this.output.appendLine(`[selfcoder] run ${runId} started: ${args.problem}`);
    this.show();
    void this.poll(runId);
    return runId;
  }

  private async refresh(runId: string): Promise<RunStatus> {
    const answer = await this.exec<{ runs: RunStatus[] }>('selfcoder.status', { runId });
    const status = answer.runs[0];
    this.runs.set(runId, status);
    this.show();
    return status;
  }

  private async poll(runId: string): Promise<void> {
    let status: RunStatus;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      try {
        status = await this.refresh(runId);
      } catch (e) {
        this.output.appendLine(`[selfcoder] run ${runId}: status failed: ${String(e)}`);
        return;
      }
      if (status.state !== 'running') {
        break;
      }
    }
    await this.finished(status);
  }

  private async finished(run: RunStatus): Promise<void> {
    const n = run.touchedFiles.length;
    const summary = `selfcoder run ${run.runId}: ${run.status || run.state} (${n} file${n === 1 ? '' : 's'} changed)`;
    this.output.appendLine(`[selfcoder] ${summary}${run.message ? ': ' + run.message : ''}`);
    if (run.state !== 'finished' || n === 0) {
      void vscode.window.showInformationMessage(summary);
      return;
    }
    if (userFlag('openDiffWhenDone', true)) {
      await this.showDiff(run.runId).catch((e) => this.error(e));
    }
    const actions = run.status === 'resolved' ? ['Apply', 'Show Diff', 'Discard'] : ['Show Diff', 'Discard'];
    const choice = await vscode.window.showInformationMessage(summary, ...actions);
    if (choice === 'Apply') {
      await this.apply(run.runId).catch((e) => this.error(e));
    } else if (choice === 'Show Diff') {
      await this.showDiff(run.runId).catch((e) => this.error(e));
    } else if (choice === 'Discard') {
      await this.discard(run.runId).catch((e) => this.error(e));
    }
  }

  /** One `vscode.diff` per changed file: the file on disk (left) against its patched text (right). */
  async showDiff(runId: string): Promise<void> {
    const run = await this.refresh(runId);
    if (!run.diffUri) {
      throw new Error(`run ${runId} has no diff${run.state === 'running' ? ' yet' : ''}`);
    }
    const folder = vscode.Uri.parse(run.folderUri);
    const files = parsePatch(fs.readFileSync(vscode.Uri.parse(run.diffUri).fsPath, 'utf8'));
    for (const file of files) {
      const original = vscode.Uri.joinPath(folder, file.oldPath ?? file.path);
      const old = file.oldPath === null ? '' : fs.readFileSync(original.fsPath, 'utf8');
      const right = vscode.Uri.from({ scheme: PATCHED_SCHEME, path: vscode.Uri.joinPath(folder, file.path).path, query: `run=${runId}` });
      this.patched.set(right.toString(), applyFilePatch(old, file));
      this.changed.fire(right);
      const left = file.oldPath === null ? right.with({ query: `run=${runId}&empty=1` }) : original;
      if (file.oldPath === null) {
        this.patched.set(left.toString(), '');
      }
      await vscode.commands.executeCommand('vscode.diff', left, right,
        `${file.path} ↔ selfcoder run ${runId} (${run.status || run.state})`, { preview: false });
    }
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.patched.get(uri.toString()) ?? '';
  }

  async apply(runId: string): Promise<void> {
    const answer = await this.exec<{ applied: boolean; files: string[] }>('selfcoder.apply', { runId });
    const run = await this.refresh(runId);
    const folder = vscode.Uri.parse(run.folderUri);
    if (userFlag('saveOnApply', false)) {
      for (const rel of answer.files) {
        const doc = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === vscode.Uri.joinPath(folder, rel).fsPath);
        await doc?.save();
      }
    }
    this.output.appendLine(`[selfcoder] run ${runId} applied to ${answer.files.join(', ')}`);
    void vscode.window.showInformationMessage(`selfcoder: run ${runId} applied to ${answer.files.join(', ')}`);
  }

  async discard(runId: string): Promise<void> {
    await this.exec('selfcoder.discard', { runId });
    await this.refresh(runId);
    void vscode.window.showInformationMessage(`selfcoder: run ${runId} discarded`);
  }

  async cancel(runId: string): Promise<void> {
    await this.exec('selfcoder.cancel', { runId });
    this.output.appendLine(`[selfcoder] run ${runId}: cancel requested`);
  }

  error(e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    void vscode.window.showErrorMessage(message.startsWith('selfcoder') ? message : `selfcoder: ${message}`);
  }

  /** The status-bar item: the newest run's state. */
  show(): void {
    const run = this.latest();
    if (!run) {
      this.statusBar.text = '$(sparkle) selfcoder';
      this.statusBar.tooltip = 'selfcoder: no run yet — click to start one';
      this.statusBar.command = 'selfcoder.runProblem';
    } else if (run.state === 'running') {
      this.statusBar.text = `$(sync~spin) selfcoder: ${run.phase}${run.steps ? ` · step ${run.steps}` : ''}`;
      this.statusBar.tooltip = `run ${run.runId}: ${run.problem}\nclick to cancel`;
      this.statusBar.command = 'selfcoder.cancelRun';
    } else {
      const icon = run.state === 'applied' ? '$(check-all)' : run.status === 'resolved' ? '$(check)' : '$(warning)';
      this.statusBar.text = `${icon} selfcoder: ${run.state === 'finished' ? run.status : run.state}`;
      this.statusBar.tooltip = `run ${run.runId}: ${run.message || run.problem}\nclick to show the diff`;
      this.statusBar.command = 'selfcoder.showRunDiff';
    }
    this.statusBar.show();
  }
}
