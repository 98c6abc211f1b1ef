/**
 * Quick fixes on memcheck diagnostics:
 * - "Add suppression …": a command the server runs itself (it appends the entry to the
 *   suppression file on disk, so Valgrind can use it at once, and hides what it matches);
 * - "Re-run with --track-origins=yes", for an uninitialised value with no recorded origin: a
 *   command the client runs (it starts a new unigrind session).
 */
import { CodeActionKind, type CodeAction, type Diagnostic } from 'vscode-languageserver';
import { DIAGNOSTIC_SOURCE } from './diagnostics';
import { ADD_SUPPRESSION_COMMAND, RERUN_TRACK_ORIGINS_COMMAND, type AddSuppressionArgs, type DiagnosticData } from './protocol';
import { renderSuppression } from './suppressions';

/** True when `v` has the shape of the `data` the server puts on its diagnostics. */
export function isDiagnosticData(v: unknown): v is DiagnosticData {
  return typeof v === 'object' && v !== null && typeof (v as { findingId?: unknown }).findingId === 'string';
}

/**
 * The actions for the diagnostics of a code-action request.
 * @param recover finds the data of a diagnostic whose client dropped `data` (older clients)
 * @param suppressionFile the suppression file's name, for the action titles
 */
export function codeActions(diagnostics: Diagnostic[], recover: (d: Diagnostic) => DiagnosticData | undefined, suppressionFile: string): CodeAction[] {
  const actions: CodeAction[] = [];
  const seen = new Set<string>();
  for (const d of diagnostics) {
    if (d.source !== DIAGNOSTIC_SOURCE) continue;
    const data = isDiagnosticData(d.data) ? d.data : recover(d);
    if (!data) continue;
    if (data.suppression && data.suppressionName) {
      const args: AddSuppressionArgs = { name: data.suppressionName, suppression: data.suppression };
      const key = `s:${renderSuppression(args.name, args.suppression)}`;
      if (!seen.has(key)) {
        seen.add(key);
        const title = `Add suppression '${data.suppressionName}' to ${suppressionFile}`;
        actions.push({ title, kind: CodeActionKind.QuickFix, diagnostics: [d], command: { title, command: ADD_SUPPRESSION_COMMAND, arguments: [args] } });
      }
    }
    if (data.rerun) {
      const key = `r:${JSON.stringify(data.rerun)}`;
      if (!seen.has(key)) {
        seen.add(key);
        const title = 'Re-run with --track-origins=yes to see where the uninitialised value came from';
        actions.push({ title, kind: CodeActionKind.QuickFix, diagnostics: [d], command: { title, command: RERUN_TRACK_ORIGINS_COMMAND, arguments: [data.rerun] } });
      }
    }
  }
  return actions;
}
