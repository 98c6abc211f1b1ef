/**
 * The extension's commands. `unigrind.addSuppression` is not here: the language server runs it
 * (vscode-languageclient registers the server's commands by itself).
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import {
  CLEAR_FINDINGS_NOTIFICATION,
  LOAD_XML_REQUEST,
  RERUN_TRACK_ORIGINS_COMMAND,
  SHOW_FINDINGS_COMMAND,
  type LoadXmlResult,
  type RerunArgs,
  type ShowFindingsArgs,
} from '../../server/protocol';
import { launchConfig } from './debug-config';
import { pickProgram } from './program-picker';

/** Launch configurations of the sessions seen, so that a re-run can repeat them. */
export class SessionConfigs {
  private readonly configs = new Map<string, { config: vscode.DebugConfiguration; folder: vscode.WorkspaceFolder | undefined }>();

  remember(session: vscode.DebugSession): void {
    this.configs.set(session.id, { config: session.configuration, folder: session.workspaceFolder });
  }

  get(sessionId: string | undefined): { config: vscode.DebugConfiguration; folder: vscode.WorkspaceFolder | undefined } | undefined {
    return sessionId === undefined ? undefined : this.configs.get(sessionId);
  }
}

/** Register every command; `ready` resolves once the language client runs. */
export function registerCommands(context: vscode.ExtensionContext, ready: Promise<LanguageClient>, sessions: SessionConfigs): void {
  const reg = (id: string, fn: (...args: never[]) => unknown): void => {
    context.subscriptions.push(vscode.commands.registerCommand(id, fn));
  };

  reg('unigrind.runProgram', async (resource?: vscode.Uri) => {
    const source = resource instanceof vscode.Uri ? resource : vscode.window.activeTextEditor?.document.uri;
    const program = await pickProgram(context, source);
    if (!program) return;
    const folder = source ? vscode.workspace.getWorkspaceFolder(source) : vscode.workspace.workspaceFolders?.[0];
    // Run without debugging: findings still stream in through the adapter's events.
    await vscode.debug.startDebugging(folder, launchConfig(program, folder), { noDebug: true });
  });

  reg('unigrind.loadXml', async () => {
    const picked = await vscode.window.showOpenDialog({ title: 'Valgrind XML output', canSelectMany: false, filters: { 'Valgrind XML': ['xml'], 'All files': ['*'] } });
    const uri = picked?.[0];
    if (!uri) return;
    const client = await ready;
    try {
      const r = await client.sendRequest<LoadXmlResult>(LOAD_XML_REQUEST, { uri: client.code2ProtocolConverter.asUri(uri) });
      void vscode.window.showInformationMessage(`unigrind: ${r.records} findings in ${vscode.workspace.asRelativePath(uri)}, ${r.shown} shown.`);
    } catch (e) {
      void vscode.window.showErrorMessage(`unigrind: ${(e as Error).message}`);
    }
  });

  reg('unigrind.clearFindings', async () => {
    const client = await ready;
    await client.sendNotification(CLEAR_FINDINGS_NOTIFICATION, {});
  });

  reg(RERUN_TRACK_ORIGINS_COMMAND, async (args: RerunArgs) => {
    const known = sessions.get(args.sessionId);
    const folder = known?.folder ?? vscode.workspace.workspaceFolders?.[0];
    const config: vscode.DebugConfiguration = known
      ? { ...known.config, trackOrigins: true, name: `${known.config.name} (track origins)` }
      : launchConfig(args.program, folder, { args: args.args, ...(args.cwd ? { cwd: args.cwd } : {}), trackOrigins: true });
    await vscode.debug.startDebugging(folder, config, { noDebug: known?.config.noDebug === true });
  });

  reg(SHOW_FINDINGS_COMMAND, async (args: ShowFindingsArgs) => {
    const at = (uri: string, line: number): vscode.Location => new vscode.Location(vscode.Uri.parse(uri), new vscode.Position(line, 0));
    await vscode.commands.executeCommand('editor.action.showReferences', vscode.Uri.parse(args.uri), new vscode.Position(args.line, 0), args.locations.map((l) => at(l.uri, l.line)));
  });
}
