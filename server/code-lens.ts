/**
 * One code lens per function that has findings, on the function's definition line:
 * "memcheck: 1 invalid write, 1 uninitialised condition · leaks: 32 bytes in 2 records". Its
 * command (run by the client) lists the findings' locations.
 */
import type { CodeLens } from 'vscode-languageserver';
import { withCommas } from '../engine/errors/format';
import { findDefinitionLine } from './function-finder';
import { isLeak, nounOf } from './kinds';
import type { Placed } from './placement';
import { SHOW_FINDINGS_COMMAND, type ShowFindingsArgs } from './protocol';
import type { TextSource } from './source-text';
import { directBytes } from './inlay-hints';
import { uriOf } from './diagnostics';

/** Code lenses for one file. */
export function functionLenses(placed: Placed[], path: string, text: TextSource): CodeLens[] {
  const groups = new Map<string, Placed[]>();
  for (const p of placed) {
    if (p.path !== path) continue;
    const fn = p.anchor?.frame.fn ?? '';
    let g = groups.get(fn);
    if (!g) groups.set(fn, (g = []));
    g.push(p);
  }
  const lines = text.lines(path) ?? [];
  const lenses: CodeLens[] = [];
  for (const [fn, members] of groups) {
    const firstLine = Math.min(...members.map((m) => m.line));
    const line = (fn !== '' ? findDefinitionLine(lines, fn, firstLine) : undefined) ?? firstLine;
    const args: ShowFindingsArgs = {
      uri: uriOf(path),
      line,
      locations: members.map((m) => ({ uri: uriOf(m.path), line: m.line })).sort((a, b) => a.line - b.line),
    };
    lenses.push({
      range: { start: { line, character: 0 }, end: { line, character: 0 } },
      command: { title: lensTitle(members), command: SHOW_FINDINGS_COMMAND, arguments: [args] },
    });
  }
  return lenses.sort((a, b) => a.range.start.line - b.range.start.line);
}

/** "memcheck: 2 invalid reads, 1 invalid free · leaks: 48 bytes in 2 records". */
export function lensTitle(members: Placed[]): string {
  const errors = new Map<string, number>();
  let leakBytes = 0;
  let leakRecords = 0;
  for (const m of members) {
    const rec = m.finding.record;
    if (isLeak(rec.kind)) {
      leakBytes += directBytes(rec); // indirect blocks have records of their own
      leakRecords++;
    } else errors.set(rec.kind, (errors.get(rec.kind) ?? 0) + (rec.count ?? 1));
  }
  const parts: string[] = [];
  if (errors.size > 0) {
    parts.push([...errors].map(([kind, n]) => `${n} ${plural(nounOf(kind), n)}`).join(', '));
  }
  if (leakRecords > 0) parts.push(`leaks: ${withCommas(leakBytes)} bytes in ${leakRecords} ${plural('record', leakRecords)}`);
  return `memcheck: ${parts.join(' · ')}`;
}

function plural(noun: string, n: number): string {
  return n === 1 ? noun : `${noun}s`;
}
