/**
 * What memcheck keeps from one leak search to the next: its table of loss records and the last
 * LEAK SUMMARY. Delta searches (VALGRIND_DO_ADDED_LEAK_CHECK, VALGRIND_DO_CHANGED_LEAK_CHECK)
 * compare every record and summary line with the previous search, VALGRIND_COUNT_LEAKS and
 * VALGRIND_COUNT_LEAK_BLOCKS read the last summary, and every search (the exit-time one too)
 * numbers its records counting those kept from the previous search.
 *
 * Measured on Valgrind 3.19: a record whose blocks are all gone (freed, or now in another leak
 * state) stays in the table for one more search with zero figures, so "0 (-30) bytes in 0 (-1)
 * blocks" can be shown, and it counts in "loss record N of M"; the search after that drops it.
 * A search that finds no block in use empties the table but leaves the last summary as it was.
 */
import type { LeakState } from '../errors/error-record';
import { LEAK_STATES } from '../errors/error-record';
import type { LeakSummary, LossRecordInput } from '../errors/leak-report';
import type { LossRecord } from './leak-check';

/** A record of the table: its figures, and the context and age it was first grouped under. */
interface TableRecord<C> extends LossRecordInput {
  ctx: C;
  age: number;
}

const rank = (s: LeakState): number => LEAK_STATES.indexOf(s);

export class LeakHistory<C> {
  private table = new Map<string, TableRecord<C>>();
  /** The last search's LEAK SUMMARY (undefined before the first search that found blocks). */
  summary: LeakSummary | undefined;

  /** @param key groups contexts as the loss records do (--leak-resolution). */
  constructor(private readonly key: (ctx: C) => string | number) {}

  /**
   * Folds one search's loss records into the table and returns the table in print order (total
   * bytes, state, blocks, age), each record carrying its figures of the previous search as `old`
   * when it existed then.
   */
  merge(records: readonly LossRecord<C>[]): LossRecordInput[] {
    if (records.length === 0) {
      this.table.clear();
      return [];
    }
    const next = new Map<string, TableRecord<C>>();
    for (const [k, r] of this.table) {
      if (r.blocks === 0) continue;
      next.set(k, { ...r, old: { bytes: r.bytes, indirectBytes: r.indirectBytes, blocks: r.blocks }, bytes: 0, indirectBytes: 0, blocks: 0 });
    }
    for (const r of records) {
      const k = `${r.state}\u0000${String(this.key(r.ctx))}`;
      const indirectBytes = r.state === 'definite' ? r.indirectBytes : 0;
      const kept = next.get(k);
      if (kept) {
        // The record keeps the context (and so the stack) it was first shown with.
        kept.bytes += r.bytes;
        kept.indirectBytes += indirectBytes;
        kept.blocks += r.blocks;
      } else {
        next.set(k, { state: r.state, stack: r.stack, bytes: r.bytes, indirectBytes, blocks: r.blocks, ctx: r.ctx, age: r.age });
      }
    }
    this.table = next;
    return [...next.values()]
      .sort((x, y) => (x.bytes + x.indirectBytes) - (y.bytes + y.indirectBytes) || rank(x.state) - rank(y.state) || x.blocks - y.blocks || x.age - y.age)
      .map((r) => {
        const out: LossRecordInput = { state: r.state, stack: r.stack, bytes: r.bytes, indirectBytes: r.indirectBytes, blocks: r.blocks };
        if (r.old) out.old = { ...r.old };
        return out;
      });
  }
}
