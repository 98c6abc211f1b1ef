/**
 * Which program "Run Program under Memcheck" runs: the executable built from the file being
 * edited (`foo.c` → `foo`, next to it, at the folder root or in `build/`), the one chosen last
 * time for that file, or one the user picks.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

const MEMO_KEY = 'unigrind.programBySource';

function isExecutable(p: string): boolean {
  try {
    const st = fs.statSync(p);
    return st.isFile() && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** Executables that a source file probably builds, most likely first. */
export function candidatesFor(source: string, folder: string | undefined): string[] {
  const dir = path.dirname(source);
  const stem = path.basename(source, path.extname(source));
  const roots = [dir, ...(folder ? [folder, path.join(folder, 'build'), path.join(folder, 'bin')] : [])];
  return [...roots.map((r) => path.join(r, stem)), path.join(dir, 'a.out')];
}

/** The program to run for a source file, asking the user when no guess exists. */
export async function pickProgram(context: vscode.ExtensionContext, source: vscode.Uri | undefined): Promise<string | undefined> {
  const memo = context.workspaceState.get<Record<string, string>>(MEMO_KEY, {});
  const folder = source ? vscode.workspace.getWorkspaceFolder(source)?.uri.fsPath : vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (source) {
    const remembered = memo[source.fsPath];
    if (remembered && isExecutable(remembered)) return remembered;
    if (isExecutable(source.fsPath)) return source.fsPath;
    const guess = candidatesFor(source.fsPath, folder).find(isExecutable);
    if (guess) return guess;
  }
  const picked = await vscode.window.showOpenDialog({
    title: 'Program to run under memcheck',
    canSelectMany: false,
    defaultUri: folder ? vscode.Uri.file(folder) : undefined,
    openLabel: 'Run under Memcheck',
  });
  const program = picked?.[0]?.fsPath;
  if (program && source) await context.workspaceState.update(MEMO_KEY, { ...memo, [source.fsPath]: program });
  return program;
}
