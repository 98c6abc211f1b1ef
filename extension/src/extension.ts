/**
 * unigrind's VS Code extension: contributes the `unigrind` debugger (the adapter is
 * dist/adapter/main.js, declared in package.json), starts the language server, feeds it the
 * findings of running debug sessions, and shows progress while a run is under way.
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import type { FindingsParams } from '../../server/protocol';
import { registerCommands, SessionConfigs } from './commands';
import { UnigrindConfigurationProvider } from './debug-config';
import { createLanguageClient } from './language-client';
import { FindingsTracker, type FindingsSink } from './live-findings';
import { RunProgress } from './run-progress';

let client: LanguageClient | undefined;

/** Called by VS Code on the first activation event. */
export function activate(context: vscode.ExtensionContext): void {
  client = createLanguageClient(context);
  const started = client.start().then(() => client as LanguageClient);
  // Commands and trackers are registered at once (a debug session may be what activated us);
  // whatever they send waits for the server.
  started.catch((e: unknown) => void vscode.window.showErrorMessage(`unigrind: the language server did not start: ${String(e)}`));

  const progress = new RunProgress();
  const sessions = new SessionConfigs();
  const sink: FindingsSink = {
    notify: async (method: string, params: FindingsParams) => {
      const c = await started;
      await c.sendNotification(method, params);
    },
    counted: (sessionId, record) => progress.count(sessionId, record),
  };

  context.subscriptions.push(
    progress,
    vscode.debug.registerDebugConfigurationProvider('unigrind', new UnigrindConfigurationProvider(context)),
    vscode.debug.registerDebugAdapterTrackerFactory('unigrind', { createDebugAdapterTracker: (session) => new FindingsTracker(session, sink) }),
    vscode.debug.onDidStartDebugSession((s) => {
      if (s.type !== 'unigrind') return;
      sessions.remember(s);
      progress.start(s);
    }),
    vscode.debug.onDidTerminateDebugSession((s) => progress.end(s.id)),
  );
  registerCommands(context, started, sessions);
}

/** Called by VS Code on shutdown: stop the server cleanly. */
export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
