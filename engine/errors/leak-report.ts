/**
 * Reporting a leak search's loss records through the error manager, the way memcheck's
 * `print_results` does: records sorted by size, each offered to the manager as a unique error
 * (shown per --show-leak-kinds, counted per --errors-for-leak-kinds, both only with
 * --leak-check=full), and the LEAK SUMMARY totals computed from what was suppressed.
 */
import type { ErrorFrame, LeakState } from './error-record';
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
}

/** Leak-check parameters (--leak-check, --show-leak-kinds, --errors-for-leak-kinds). */
export interface LeakCheckParams {
  mode: 'summary' | 'full';
  showKinds: ReadonlySet<LeakState>;
  errorsForKinds: ReadonlySet<LeakState>;
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
   * multipleinheritance), in that order; only entries with blocks are listed. */
  heuristics: { name: string; bytes: number; blocks: number }[];
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

/**
 * Offer every loss record to the manager and return the summary totals. The manager publishes
 * shown records as 'error' events (writers print them); suppressed ones count their direct bytes
 * as suppressed, as Valgrind does.
 */
export function reportLossRecords(
  manager: ErrorManager,
  records: readonly LossRecordInput[],
  params: LeakCheckParams,
  heuristics: LeakSummary['heuristics'] = [],
  tid = 1,
): LeakSummary {
  manager.beginLeakSearch();
  const sorted = sortLossRecords(records);
  const zero = (): LeakTotals => ({ bytes: 0, blocks: 0 });
  const summary: LeakSummary = {
    definite: zero(), indirect: zero(), possible: zero(), reachable: zero(), suppressed: zero(),
    heuristics: heuristics.filter((h) => h.blocks > 0),
  };
  const full = params.mode === 'full';
  sorted.forEach((r, i) => {
    const rec = lossRecord({
      state: r.state,
      bytes: r.bytes,
      indirectBytes: r.state === 'definite' ? r.indirectBytes : 0,
      blocks: r.blocks,
      recordNo: i + 1,
      totalRecords: sorted.length,
    }, { stack: r.stack, tid });
    const { suppressed } = manager.reportUnique(rec, {
      print: full && r.blocks > 0 && params.showKinds.has(r.state),
      count: full && r.blocks > 0 && params.errorsForKinds.has(r.state),
    });
    const bucket = suppressed ? summary.suppressed : summary[r.state];
    bucket.bytes += r.bytes;
    bucket.blocks += r.blocks;
  });
  return summary;
}
