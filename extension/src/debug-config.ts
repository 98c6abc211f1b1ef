/**
 * Completes `unigrind` launch configurations: F5 without a launch.json runs the program built from
 * the active editor's file, and the workspace's suppression file (the one "Add suppression"
 * writes) is passed to every run that does not list its own.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { pickProgram } from './program-picker';

/** The workspace's suppression file (setting `unigrind.suppressionFile`), if it exists. */
export function workspaceSuppressionFile(folder: vscode.WorkspaceFolder | undefined): string | undefined {
  const setting = vscode.workspace.getConfiguration('unigrind', folder).get<string>('suppressionFile', 'valgrind.supp');
  const root = folder?.uri.fsPath ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const file = path.isAbsolute(setting) ? setting : root ? path.join(root, setting) : undefined;
  return file && fs.existsSync(file) ? file : undefined;
}

/** A launch configuration for a program. */
export function launchConfig(program: string, folder: vscode.WorkspaceFolder | undefined, extra: Partial<vscode.DebugConfiguration> = {}): vscode.DebugConfiguration {
  return {
    type: 'unigrind',
    request: 'launch',
    name: `Memcheck: ${path.basename(program)}`,
    program,
    args: [],
    cwd: folder?.uri.fsPath ?? path.dirname(program),
    stopOnError: true,
    leakCheck: 'full',
    ...extra,
  };
}

/** The provider registered for the `unigrind` type. */
export class UnigrindConfigurationProvider implements vscode.DebugConfigurationProvider {
  constructor(private readonly context: vscode.ExtensionContext) {}

  async resolveDebugConfiguration(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): Promise<vscode.DebugConfiguration | undefined> {
    if (!config.type && !config.request && !config.name) {
      // No launch.json: run what the active editor's file builds.
      const program = await pickProgram(this.context, vscode.window.activeTextEditor?.document.uri);
      if (!program) return undefined; // cancelled: abort the launch
      config = launchConfig(program, folder);
    }
    if (config.suppressions === undefined) {
      const supp = workspaceSuppressionFile(folder);
      if (supp) config.suppressions = [supp];
    }
    return config;
  }
}
