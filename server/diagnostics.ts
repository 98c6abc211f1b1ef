/**
 * Findings as LSP diagnostics: one per error context, on its anchor line; `code` is the Valgrind
 * kind linked to the manual; `relatedInformation` lists the other frames of the error's stack and
 * of its allocation/free/origin stacks; `data` carries the suppression and re-run arguments the
 * code actions need.
 */
import { DiagnosticRelatedInformation, type Diagnostic } from 'vscode-languageserver';
import { pathToFileURL } from 'node:url';
import type { Finding } from './findings';
import { docLinkOf, hasOrigin, isUninitialised, severityOf } from './kinds';
import type { Locator } from './locate';
import type { Placed, Placement } from './placement';
import type { DiagnosticData, RerunArgs, ValgrindFrame } from './protocol';
import { lineSpan, type TextSource } from './source-text';
import { suppressionFor } from './suppressions';
import { frameLocationText } from '../engine/report/frames';

/** `source` of every diagnostic: the tool, as Valgrind names it. */
export const DIAGNOSTIC_SOURCE = 'memcheck';

/** file URI of an absolute path. */
export function uriOf(p: string): string {
  return pathToFileURL(p).href;
}

/** Diagnostics by absolute file path. */
export function buildDiagnostics(placement: Placement, text: TextSource, locator: Locator): Map<string, Diagnostic[]> {
  const out = new Map<string, Diagnostic[]>();
  for (const p of placement.placed) {
    let list = out.get(p.path);
    if (!list) out.set(p.path, (list = []));
    list.push(toDiagnostic(p, text, locator));
  }
  return out;
}

/** The diagnostic of one placed finding. */
export function toDiagnostic(p: Placed, text: TextSource, locator: Locator): Diagnostic {
  const rec = p.finding.record;
  const span = lineSpan(text.lines(p.path), p.line);
  const diagnostic: Diagnostic = {
    range: { start: { line: p.line, character: span.start }, end: { line: p.line, character: span.end } },
    severity: severityOf(rec),
    code: rec.kind,
    codeDescription: { href: docLinkOf(rec.kind) },
    source: DIAGNOSTIC_SOURCE,
    message: messageOf(p),
    relatedInformation: related(p, locator),
    data: dataOf(p),
  };
  return diagnostic;
}

function messageOf(p: Placed): string {
  const rec = p.finding.record;
  const count = rec.count !== undefined && rec.count > 1 ? ` (${rec.count} times)` : '';
  const lines = [`${rec.what}${count}`, ...rec.aux.filter((a) => a.text !== '').map((a) => a.text)];
  if (!p.anchor) lines.push('(no frame of this error is in the workspace)');
  return lines.join('\n');
}

/** Every other frame that can be opened, primary stack first, then the auxiliary stacks. */
function related(p: Placed, locator: Locator): DiagnosticRelatedInformation[] {
  const rec = p.finding.record;
  const out: DiagnosticRelatedInformation[] = [];
  const base = p.finding.source.baseDirs;
  const add = (stack: ValgrindFrame[], stackIndex: number, heading: string): void => {
    let first = true;
    stack.forEach((frame, i) => {
      if (p.anchor && p.anchor.stack === stackIndex && p.anchor.frameIndex === i) return;
      const file = locator.framePath(frame, base);
      if (file === undefined || frame.line === undefined || !locator.fileExists(file)) return;
      const where = `${i === 0 ? 'at' : 'by'} ${frameLocationText(frame)}`;
      const message = first && heading !== '' ? `${heading}: ${where}` : where;
      first = false;
      const line = frame.line - 1;
      out.push(DiagnosticRelatedInformation.create({ uri: uriOf(file), range: { start: { line, character: 0 }, end: { line, character: 0 } } }, message));
    });
  };
  add(rec.stack, -1, '');
  rec.aux.forEach((aux, i) => {
    if (aux.stack) add(aux.stack, i, aux.text);
  });
  return out;
}

function dataOf(p: Placed): DiagnosticData {
  const { record: rec, source } = p.finding;
  const data: DiagnosticData = { findingId: p.finding.id };
  const supp = suppressionFor(rec);
  if (supp) {
    data.suppression = supp;
    data.suppressionName = suggestedName(p.finding, p.anchor?.frame);
  }
  if (isUninitialised(rec) && !hasOrigin(rec) && source.program !== undefined) {
    const rerun: RerunArgs = { program: source.program, args: source.args ?? [] };
    if (source.cwd !== undefined) rerun.cwd = source.cwd;
    if (source.sessionId !== undefined) rerun.sessionId = source.sessionId;
    data.rerun = rerun;
  }
  return data;
}

/** `<function>-<kind>`, after the frame the user sees (Qt Creator names them `fn[kind]`). */
export function suggestedName(f: Finding, anchorFrame: ValgrindFrame | undefined): string {
  const fn = anchorFrame?.fn ?? f.record.stack.find((fr) => fr.fn)?.fn ?? 'unknown';
  const shortFn = fn.replace(/\(.*$/, '');
  return `${shortFn}-${f.record.kind}`;
}
