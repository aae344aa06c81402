// selfcoder for VS Code: a thin client of `selfcoder lsp`. The server runs the agent, the
// sandbox and the tests; this extension starts it, turns palette commands into its
// `selfcoder.*` commands, keeps a status-bar item and the transcript (Output › selfcoder), and
// shows a real diff view before the patch is applied through the server.
import * as vscode from 'vscode';
import { LanguageClient } from 'vscode-languageclient/node';
import { PATCHED_SCHEME, Runs } from './runs';
import { makeClient, missingServer, serverCommand } from './server';

let client: LanguageClient | undefined;
// the server start in progress: a command given while the server starts waits for it, not fails
let starting: Promise<void> = Promise.resolve();

async function startServer(output: vscode.OutputChannel): Promise<void> {
  const cmd = serverCommand();
  const missing = missingServer(cmd);
  if (missing) {
    output.appendLine(missing);
    void vscode.window.showErrorMessage(missing, 'Open Settings').then((choice) => {
      if (choice) {
        void vscode.commands.executeCommand('workbench.action.openSettings', 'selfcoder');
      }
    });
    return;
  }
  const next = makeClient(cmd, output);
  try {
    await next.start();
    client = next;
    output.appendLine(`[selfcoder] language server started: ${cmd.command} ${cmd.args.join(' ')}`);
  } catch (e) {
    const message = `selfcoder: the language server \`${cmd.command} ${cmd.args.join(' ')}\` failed to start: ` +
      `${e instanceof Error ? e.message : String(e)} (see Output › selfcoder)`;
    output.appendLine(message);
    void vscode.window.showErrorMessage(message);
  }
}

/** The workspace folder of `uri` (or the only/chosen one); undefined + message when none. */
async function folderFor(uri?: vscode.Uri): Promise<vscode.WorkspaceFolder | undefined> {
  if (uri) {
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    if (!folder) {
      void vscode.window.showErrorMessage(`selfcoder: ${uri.fsPath} is outside every workspace folder; ` +
        'open its repository as a folder (File › Open Folder) to run selfcoder on it.');
    }
    return folder;
  }
  const folders = vscode.workspace.workspaceFolders || [];
  if (folders.length === 0) {
    void vscode.window.showErrorMessage('selfcoder: open a folder first (File › Open Folder): a run works on a repository.');
    return undefined;
  }
  return folders.length === 1 ? folders[0] : vscode.window.showWorkspaceFolderPick({ placeHolder: 'selfcoder: run in which folder?' });
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('selfcoder');
  const statusBar = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);
  statusBar.name = 'selfcoder';
  const runs = new Runs(async () => { await starting; return client; }, statusBar, output);
  runs.show();
  context.subscriptions.push(output, statusBar, vscode.workspace.registerTextDocumentContentProvider(PATCHED_SCHEME, runs));

  const agent = (): string | undefined => context.workspaceState.get<string>('selfcoder.agent');
  const ask = (value?: string) => vscode.window.showInputBox({ prompt: 'selfcoder: what should be fixed?', value,
    placeHolder: 'e.g. calc.mean([1, 2, 3]) returns 3.0 instead of 2.0', ignoreFocusOut: true });

  async function run(withFile: boolean, withSelection: boolean): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if ((withFile || withSelection) && !editor) {
      void vscode.window.showErrorMessage('selfcoder: open a file first');
      return;
    }
    const uri = withFile || withSelection ? editor!.document.uri : undefined;
    const folder = await folderFor(uri);
    if (!folder) {
      return;
    }
    const problem = await ask(withSelection ? 'Fix the problem in the selected code.' : undefined);
    if (!problem || !problem.trim()) {
      return;
    }
    const args: { problem: string; folderUri: string; uri?: string; range?: object; agent?: string } = {
      problem, folderUri: folder.uri.toString(), agent: agent() };
    if (uri) {
      args.uri = uri.toString();
    }
    if (withSelection && editor && !editor.selection.isEmpty) {
      const { start, end } = editor.selection;
      args.range = { start: { line: start.line, character: start.character }, end: { line: end.line, character: end.character } };
    }
    await runs.start(args);
  }

  async function onRun(action: (runId: string) => Promise<void>, what: string): Promise<void> {
    const run = runs.latest();
    if (!run) {
      void vscode.window.showWarningMessage(`selfcoder: no run to ${what} yet (selfcoder: Run on a Typed Problem starts one)`);
      return;
    }
    await action(run.runId);
  }

  const guarded = (fn: () => Promise<void>) => () => fn().catch((e) => runs.error(e));
  const register = (id: string, fn: () => Promise<void>) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, guarded(fn)));
  register('selfcoder.runOnSelection', () => run(true, true));
  register('selfcoder.runOnFile', () => run(true, false));
  register('selfcoder.runProblem', () => run(false, false));
  register('selfcoder.cancelRun', () => onRun((id) => runs.cancel(id), 'cancel'));
  register('selfcoder.showRunDiff', () => onRun((id) => runs.showDiff(id), 'show'));
  register('selfcoder.applyRun', () => onRun((id) => runs.apply(id), 'apply'));
  register('selfcoder.discardRun', () => onRun((id) => runs.discard(id), 'discard'));
  register('selfcoder.showTranscript', async () => output.show(true));
  register('selfcoder.chooseAgent', async () => {
    const { agents } = await runs.exec<{ agents: { id: string; path: string; source: string }[] }>('selfcoder.listAgents', {});
    const pick = await vscode.window.showQuickPick(agents.map((a) => ({ label: a.id, description: a.source, detail: a.path })),
      { placeHolder: `selfcoder: agent for the next runs (now: ${agent() || 'your settings'})` });
    if (pick) {
      await context.workspaceState.update('selfcoder.agent', pick.label);
    }
  });
  register('selfcoder.restartServer', async () => {
    await client?.stop();
    client = undefined;
    await (starting = startServer(output));
  });
  context.subscriptions.push(vscode.workspace.onDidChangeConfiguration((e) => {
    // the user's settings go in initializationOptions: a change needs a new server
    if (['serverPath', 'pythonPath', 'settings', 'model', 'previewEdits'].some((k) => e.affectsConfiguration(`selfcoder.${k}`))) {
      void vscode.commands.executeCommand('selfcoder.restartServer');
    }
  }));
  await (starting = startServer(output));
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
