/**
 * Leak annotations: at the end of each allocation line that leaked, an inlay hint such as
 * "90,112 bytes possibly lost in 1 block" (one part per leak kind, summed over the loss records
 * that share the line).
 */
import type { InlayHint } from 'vscode-languageserver';
import { leakStateOf, type ErrorKind } from '../engine/errors/error-record';
import { withCommas } from '../engine/errors/format';
import { LEAK_STATE_WORDS } from '../engine/errors/records';
import { engineView } from './engine-records';
import { isLeak } from './kinds';
import type { Placed } from './placement';
import type { ErrorRecord } from './protocol';
import type { TextSource } from './source-text';

/** Order of the parts: worst first. */
const ORDER = ['Leak_DefinitelyLost', 'Leak_IndirectlyLost', 'Leak_PossiblyLost', 'Leak_StillReachable'];

/**
 * Bytes a loss record lost by itself: a definitely lost record also counts the indirectly lost
 * blocks it points to ("32 (16 direct, 16 indirect) bytes"), which have records of their own.
 */
export function directBytes(rec: ErrorRecord): number {
  return engineView(rec).record?.leak?.bytes ?? rec.leakedBytes ?? 0;
}

/** "N bytes <state> in M block(s)", with Valgrind's "(D direct, I indirect)" when they differ. */
export function leakLabel(kind: string, bytes: number, direct: number, blocks: number): string {
  const split = direct !== bytes ? ` (${withCommas(direct)} direct, ${withCommas(bytes - direct)} indirect)` : '';
  const state = leakStateOf(kind as ErrorKind);
  return `${withCommas(bytes)}${split} bytes ${state ? LEAK_STATE_WORDS[state] : kind} in ${withCommas(blocks)} block${blocks === 1 ? '' : 's'}`;
}

/** Inlay hints for the leaks placed in one file, within lines [from, to]. */
export function leakHints(placed: Placed[], path: string, from: number, to: number, text: TextSource): InlayHint[] {
  const byLine = new Map<number, Map<string, { bytes: number; direct: number; blocks: number; texts: string[] }>>();
  for (const p of placed) {
    const rec = p.finding.record;
    if (p.path !== path || p.line < from || p.line > to || !isLeak(rec.kind)) continue;
    let kinds = byLine.get(p.line);
    if (!kinds) byLine.set(p.line, (kinds = new Map()));
    const sum = kinds.get(rec.kind) ?? { bytes: 0, direct: 0, blocks: 0, texts: [] };
    sum.bytes += rec.leakedBytes ?? 0;
    sum.direct += directBytes(rec);
    sum.blocks += rec.leakedBlocks ?? 0;
    sum.texts.push(rec.what);
    kinds.set(rec.kind, sum);
  }
  const lines = text.lines(path);
  const hints: InlayHint[] = [];
  for (const [line, kinds] of [...byLine].sort((a, b) => a[0] - b[0])) {
    const parts = [...kinds].sort((a, b) => rank(a[0]) - rank(b[0]));
    hints.push({
      position: { line, character: lines?.[line]?.length ?? 0 },
      label: parts.map(([kind, s]) => leakLabel(kind, s.bytes, s.direct, s.blocks)).join(' · '),
      tooltip: parts.flatMap(([, s]) => s.texts).join('\n'),
      paddingLeft: true,
    });
  }
  return hints;
}

function rank(kind: string): number {
  const i = ORDER.indexOf(kind);
  return i < 0 ? ORDER.length : i;
}
