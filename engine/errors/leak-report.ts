/**
 * Reporting a leak search's loss records through the error manager, the way memcheck's
 * `print_results` does: records sorted by size, each offered to the manager as a unique error
 * (shown per --show-leak-kinds, counted per --errors-for-leak-kinds, both only with
 * --leak-check=full), and the LEAK SUMMARY totals computed from what was suppressed.
 */
import type { ErrorFrame, LeakFigures, LeakInfo, LeakState } from './error-record';
import { LEAK_STATES } from './error-record';
import type { ErrorManager } from './error-manager';
import { lossRecord } from './records';

/** One loss record as the leak checker produces it (blocks merged by state and stack). */
export interface LossRecordInput {
  state: LeakState;
  /** Allocation stack. */
  stack: ErrorFrame[];
  /** Direct bytes. */
  bytes: number;
  /** Indirectly lost bytes hanging off these blocks (definite records only). */
  indirectBytes: number;
  blocks: number;
  /** The record's figures in the previous leak search, when it existed then (a record whose
   * blocks are all gone stays one more search, with zero figures, so its decrease can show). */
  old?: LeakFigures;
}

/**
 * Which records a search reports (memcheck.h's DO_LEAK_CHECK, DO_ADDED_LEAK_CHECK,
 * DO_CHANGED_LEAK_CHECK): all with blocks, those that grew, or those that changed since the
 * previous search. The last two print every figure with its change.
 */
export type LeakDeltaMode = 'any' | 'increased' | 'changed';

/** Leak-check parameters (--leak-check, --show-leak-kinds, --errors-for-leak-kinds). */
export interface LeakCheckParams {
  mode: 'summary' | 'full';
  showKinds: ReadonlySet<LeakState>;
  errorsForKinds: ReadonlySet<LeakState>;
  /** Default 'any' (the exit-time search and VALGRIND_DO_LEAK_CHECK). */
  delta?: LeakDeltaMode;
}

/** Bytes and blocks of one LEAK SUMMARY line. */
export interface LeakTotals { bytes: number; blocks: number }

/** The LEAK SUMMARY figures. */
export interface LeakSummary {
  definite: LeakTotals;
  indirect: LeakTotals;
  possible: LeakTotals;
  reachable: LeakTotals;
  suppressed: LeakTotals;
  /** Blocks found reachable only through a heuristic (stdstring, length64, newarray,
   * multipleinheritance), in that order; only entries with blocks are listed (in a delta
   * search also those that had blocks in the previous one). */
  heuristics: { name: string; bytes: number; blocks: number }[];
  /** In a delta search: the previous search's summary, each line then shows its change. */
  previous?: LeakSummary;
}

/** Default of --show-leak-kinds and --errors-for-leak-kinds. */
export const DEFAULT_LEAK_KINDS: ReadonlySet<LeakState> = new Set<LeakState>(['definite', 'possible']);

/** Order of loss records: total size, then state, then block count; the sort is stable, so
 * equal records keep the producer's order (Valgrind falls back to allocation-context age). */
export function sortLossRecords<T extends LossRecordInput>(records: readonly T[]): T[] {
  const rank = (s: LeakState) => LEAK_STATES.indexOf(s);
  return [...records].sort((a, b) =>
    (a.bytes + a.indirectBytes) - (b.bytes + b.indirectBytes)
    || rank(a.state) - rank(b.state)
    || a.blocks - b.blocks);
}

// Whether a record takes part in a search of this delta mode (printed or counted if its kind is).
function considered(r: LossRecordInput, delta: LeakDeltaMode): boolean {
  if (delta === 'any') return r.blocks > 0;
  const o = r.old ?? { bytes: 0, indirectBytes: 0, blocks: 0 };
  const indirect = r.state === 'definite' ? r.indirectBytes : 0;
  if (delta === 'increased') return r.bytes > o.bytes || indirect > o.indirectBytes || r.blocks > o.blocks;
  return r.bytes !== o.bytes || indirect !== o.indirectBytes || r.blocks !== o.blocks;
}

/**
 * Offer every loss record to the manager and return the summary totals. The manager publishes
 * shown records as 'error' events (writers print them); suppressed ones count their direct bytes
 * as suppressed, as Valgrind does. `previous` is the summary of the last search, shown as
 * changes in a delta search.
 */
export function reportLossRecords(
  manager: ErrorManager,
  records: readonly LossRecordInput[],
  params: LeakCheckParams,
  heuristics: LeakSummary['heuristics'] = [],
  tid = 1,
  previous?: LeakSummary,
): LeakSummary {
  manager.beginLeakSearch();
  const sorted = sortLossRecords(records);
  const zero = (): LeakTotals => ({ bytes: 0, blocks: 0 });
  const delta = params.delta ?? 'any';
  const hadBlocks = (name: string): boolean => (previous?.heuristics ?? []).some((h) => h.name === name && h.blocks > 0);
  const summary: LeakSummary = {
    definite: zero(), indirect: zero(), possible: zero(), reachable: zero(), suppressed: zero(),
    heuristics: heuristics.filter((h) => h.blocks > 0 || (delta !== 'any' && hadBlocks(h.name))),
  };
  if (delta !== 'any') summary.previous = previous ?? emptySummary();
  const full = params.mode === 'full';
  sorted.forEach((r, i) => {
    const indirectBytes = r.state === 'definite' ? r.indirectBytes : 0;
    const leak: LeakInfo = { state: r.state, bytes: r.bytes, indirectBytes, blocks: r.blocks, recordNo: i + 1, totalRecords: sorted.length };
    if (delta !== 'any') leak.old = r.old ?? { bytes: 0, indirectBytes: 0, blocks: 0 };
    const take = full && considered(r, delta);
    const { suppressed } = manager.reportUnique(lossRecord(leak, { stack: r.stack, tid }), {
      print: take && params.showKinds.has(r.state),
      count: take && params.errorsForKinds.has(r.state),
    });
    const bucket = suppressed ? summary.suppressed : summary[r.state];
    bucket.bytes += r.bytes;
    bucket.blocks += r.blocks;
  });
  return summary;
}

/** The summary of a search that found nothing (the baseline of the first delta search). */
export function emptySummary(): LeakSummary {
  const zero = (): LeakTotals => ({ bytes: 0, blocks: 0 });
  return { definite: zero(), indirect: zero(), possible: zero(), reachable: zero(), suppressed: zero(), heuristics: [] };
}
