// Starting `selfcoder lsp` and what the client tells it. Why this is more than a one-liner:
// - a missing server must be one clear message naming the path tried, before any start attempt;
// - the user's *own* settings are trusted (initializationOptions), while a folder's settings
//   (a cloned repository's .vscode/settings.json) must reach the server only through
//   workspace/configuration, which the server screens — so each goes its own way;
// - the extension shows a real diff before applying, so VS Code's refactor preview (triggered
//   by change annotations) is off unless selfcoder.previewEdits asks for it.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import {
  ClientCapabilities,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  StaticFeature,
  FeatureState,
  ErrorAction,
  CloseAction,
} from 'vscode-languageclient/node';

export interface ServerCommand {
  command: string;
  args: string[];
  setting: string; // which setting chose it, for the error message
}

/** `selfcoder.<key>` from the user's own settings (user, or the remote machine's), never from a
 * workspace: a cloned repository's .vscode/settings.json must not choose what this extension runs.
 * package.json marks these settings `machine`, which VS Code already keeps out of workspaces; reading
 * only the global value holds even where that scope is not applied. */
function userSetting(key: string): string {
  const value = vscode.workspace.getConfiguration('selfcoder').inspect<string>(key)?.globalValue;
  return typeof value === 'string' ? value.trim() : '';
}

/** A boolean `selfcoder.<key>` from the user's own settings only (package.json scopes these
 * `application`): a cloned repository's .vscode/settings.json must not turn off the diff the user
 * reviews before applying, nor make apply save files on its own. */
export function userFlag(key: string, fallback: boolean): boolean {
  const value = vscode.workspace.getConfiguration('selfcoder').inspect<boolean>(key)?.globalValue;
  return typeof value === 'boolean' ? value : fallback;
}

export function serverCommand(): ServerCommand {
  const serverPath = userSetting('serverPath');
  if (serverPath) {
    return { command: serverPath, args: ['lsp'], setting: 'selfcoder.serverPath' };
  }
  const python = userSetting('pythonPath');
  if (python) {
    return { command: python, args: ['-m', 'selfcoder', 'lsp'], setting: 'selfcoder.pythonPath' };
  }
  return { command: 'selfcoder', args: ['lsp'], setting: 'PATH' };
}

function executable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** undefined when `cmd` can be started; else the message saying what was tried and how to fix it. */
export function missingServer(cmd: ServerCommand): string | undefined {
  if (cmd.command.includes('/') || cmd.command.includes('\\')) {
    return executable(cmd.command)
      ? undefined
      : `selfcoder: language server not found: tried \`${cmd.command}\` (from ${cmd.setting}); ` +
          'install selfcoder (pip install selfcoder) or set selfcoder.serverPath / selfcoder.pythonPath.';
  }
  const dirs = (process.env.PATH || '').split(path.delimiter).filter(Boolean);
  if (dirs.some((d) => executable(path.join(d, cmd.command)))) {
    return undefined;
  }
  return `selfcoder: language server not found: tried \`${cmd.command}\` on PATH (${dirs.join(path.delimiter)}); ` +
    'install selfcoder (pip install selfcoder) or set selfcoder.serverPath / selfcoder.pythonPath.';
}

/** The user's own settings (global scope only: a workspace cannot set these). */
export function initializationOptions(): Record<string, unknown> {
  const config = vscode.workspace.getConfiguration('selfcoder');
  const options: Record<string, unknown> = { ...(config.inspect<Record<string, unknown>>('settings')?.globalValue || {}) };
  const model = config.inspect<string>('model')?.globalValue;
  if (model) {
    options.model = { ...((options.model as object) || {}), name: model };
  }
  options.review = 'none'; // the extension reviews: diff view, then Apply / Discard
  return options;
}

/** The folder's own values of selfcoder.settings (untrusted: the server screens them). */
function folderSettings(scopeUri: string | undefined): unknown {
  const scope = scopeUri ? vscode.Uri.parse(scopeUri) : undefined;
  const inspected = vscode.workspace.getConfiguration('selfcoder', scope).inspect<object>('settings');
  return inspected?.workspaceFolderValue ?? inspected?.workspaceValue ?? null;
}

class NoRefactorPreview implements StaticFeature {
  fillClientCapabilities(capabilities: ClientCapabilities): void {
    if (!userFlag('previewEdits', false)) {
      delete capabilities.workspace?.workspaceEdit?.changeAnnotationSupport;
    }
  }
  initialize(): void {}
  getState(): FeatureState {
    return { kind: 'static' };
  }
  clear(): void {}
}

export function makeClient(cmd: ServerCommand, output: vscode.OutputChannel): LanguageClient {
  const serverOptions: ServerOptions = { command: cmd.command, args: cmd.args, options: { env: process.env } };
  let crashes = 0;
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file' }],
    outputChannel: output, // the transcript: every window/logMessage of the server
    initializationOptions: initializationOptions(),
    synchronize: { configurationSection: 'selfcoder' },
    middleware: {
      workspace: {
        configuration: (params) => params.items.map((item) => (item.section === 'selfcoder' ? folderSettings(item.scopeUri) : null)),
      },
    },
    errorHandler: {
      error: () => ({ action: ErrorAction.Continue }),
      closed: () => {
        crashes += 1;
        return crashes <= 2
          ? { action: CloseAction.Restart }
          : { action: CloseAction.DoNotRestart, message: `selfcoder: the language server (${cmd.command}) keeps stopping; see the "selfcoder" output` };
      },
    },
  };
  const client = new LanguageClient('selfcoder', 'selfcoder', serverOptions, clientOptions);
  client.registerFeature(new NoRefactorPreview());
  return client;
}
