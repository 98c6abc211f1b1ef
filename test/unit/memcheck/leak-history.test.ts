/**
 * The loss-record table kept between leak searches: records carried with their previous
 * figures, dropped one search after their blocks are gone, and emptied by a search that finds
 * no block; merged in Valgrind's print order.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { LeakState } from '../../../engine/errors/error-record';
import type { LossRecord } from '../../../engine/memcheck/leak-check';
import { LeakHistory } from '../../../engine/memcheck/leak-history';

/** A record of this search allocated at context `ctx` (its age too). */
function rec(state: LeakState, ctx: number, bytes: number, blocks = 1): LossRecord<number> {
  return { state, stack: [{ ip: ctx, fn: `f${ctx}` }], bytes, indirectBytes: 0, blocks, ctx, blockIndexes: [], age: ctx };
}

const brief = (r: { state: string; bytes: number; blocks: number; old?: { bytes: number; blocks: number } }): string =>
  `${r.state} ${r.bytes}/${r.blocks}${r.old ? ` was ${r.old.bytes}/${r.old.blocks}` : ''}`;

describe('leak history', () => {
  it('carries records to the next search and drops them one search after they empty', () => {
    const h = new LeakHistory<number>((c) => c);
    assert.deepEqual(h.merge([rec('definite', 1, 100), rec('reachable', 2, 30)]).map(brief), ['reachable 30/1', 'definite 100/1']);
    // Block 2 freed, a new one at context 3: 2 stays with zero figures and sorts first.
    assert.deepEqual(h.merge([rec('definite', 1, 100), rec('reachable', 3, 40)]).map(brief),
      ['reachable 0/0 was 30/1', 'reachable 40/1', 'definite 100/1 was 100/1']);
    assert.deepEqual(h.merge([rec('definite', 1, 100), rec('reachable', 3, 40)]).map(brief),
      ['reachable 40/1 was 40/1', 'definite 100/1 was 100/1']);
    // A block that changes state is a new record; the old one empties.
    assert.deepEqual(h.merge([rec('definite', 1, 100), rec('possible', 3, 40)]).map(brief),
      ['reachable 0/0 was 40/1', 'possible 40/1', 'definite 100/1 was 100/1']);
  });

  it('a search with no block empties the table', () => {
    const h = new LeakHistory<number>((c) => c);
    h.merge([rec('definite', 1, 100)]);
    assert.deepEqual(h.merge([]), []);
    assert.deepEqual(h.merge([rec('definite', 1, 100)]).map(brief), ['definite 100/1']);
  });

  it('groups by the key it is given (--leak-resolution) and keeps the first context', () => {
    const h = new LeakHistory<number>((c) => c % 10);
    h.merge([rec('definite', 1, 8)]);
    const [r] = h.merge([rec('definite', 11, 8, 2)]);
    assert.equal(brief(r), 'definite 8/2 was 8/1');
    assert.equal(r.stack[0].ip, 1);
  });
});
