/**
 * A status-bar progress indicator for each running unigrind session, counting the errors and
 * leaks reported so far ("unigrind: leaky — 3 errors, 2 leaks").
 */
import * as vscode from 'vscode';
import type { ErrorRecord } from '../../server/protocol';

interface Run {
  name: string;
  errors: number;
  leaks: number;
  progress?: vscode.Progress<{ message?: string }>;
  done: () => void;
}

/** Progress of the sessions under way, by session id. */
export class RunProgress implements vscode.Disposable {
  private readonly runs = new Map<string, Run>();

  /** Show progress until `end(session.id)`. */
  start(session: vscode.DebugSession): void {
    if (this.runs.has(session.id)) return;
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const run: Run = { name: session.name, errors: 0, leaks: 0, done };
    this.runs.set(session.id, run);
    void vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'unigrind' }, (progress) => {
      run.progress = progress;
      this.report(run);
      return finished;
    });
  }

  /** Count one record of a session. */
  count(sessionId: string, record: ErrorRecord): void {
    const run = this.runs.get(sessionId);
    if (!run) return;
    if (record.kind.startsWith('Leak_')) run.leaks++;
    else run.errors++;
    this.report(run);
  }

  /** The session ended. */
  end(sessionId: string): void {
    this.runs.get(sessionId)?.done();
    this.runs.delete(sessionId);
  }

  dispose(): void {
    for (const run of this.runs.values()) run.done();
    this.runs.clear();
  }

  private report(run: Run): void {
    const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;
    run.progress?.report({ message: `${run.name} — ${plural(run.errors, 'error')}, ${plural(run.leaks, 'leak')}` });
  }
}
