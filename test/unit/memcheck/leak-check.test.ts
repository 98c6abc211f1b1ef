/**
 * The leak search on heap images built in JS: the classification rules (start and interior
 * pointers, definedness of the words followed, cliques), heuristics, pool chunks, loss-record
 * grouping, and scan speed.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { LeakState } from '../../../engine/errors/error-record';
import { Heap } from '../../../engine/memcheck/heap';
import {
  activeBlocks, LEAK_HEURISTICS, LeakBlock, lossRecords, parseLeakHeuristics, searchLeaks,
} from '../../../engine/memcheck/leak-check';
import { ShadowMemory } from '../../../engine/memcheck/shadow-memory';
import { FakeGuest, LeakImage } from './support';
import { rng } from '../../support/rng';

/** State of the block at each address, in allocation order of the given addresses. */
function statesOf(img: LeakImage, addrs: number[], result = img.search()): LeakState[] {
  return addrs.map((a) => result.states[result.blocks.findIndex((b) => b.start === a)]);
}

describe('leak search', () => {
  it('classifies start-pointer, interior-pointer and unreferenced blocks', () => {
    const img = new LeakImage();
    const held = img.malloc('held', 10);
    const inner = img.malloc('inner', 32);
    const lost = img.malloc('lost', 16);
    img.setGlobal('held', held);
    img.setGlobal('inner', inner + 4);
    assert.deepEqual(statesOf(img, [held, inner, lost]), ['reachable', 'possible', 'definite']);
  });

  it('follows only addressable, defined, aligned words', () => {
    const img = new LeakImage();
    const a = img.malloc('a', 16);
    const b = img.malloc('b', 16);
    const c = img.malloc('c', 16);
    // A pointer written to memory but left undefined (as a partial copy would) is no root.
    img.guest.writeWord(img.global('undef'), a);
    img.shadow.makeUndefined(img.global('undef'), 8);
    // A pointer at an unaligned offset is never seen.
    const g = img.global('pad');
    img.global('pad2');
    img.guest.view(g + 3, 8)?.set(new Uint8Array(new Float64Array([0]).buffer).fill(0));
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setUint32(0, b, true);
    img.guest.view(g + 3, 8)?.set(bytes);
    // A defined pointer in no-access memory is not followed either.
    img.setGlobal('gone', c);
    img.shadow.makeNoAccess(img.global('gone'), 8);
    assert.deepEqual(statesOf(img, [a, b, c]), ['definite', 'definite', 'definite']);
  });

  it('takes registers as roots', () => {
    const img = new LeakImage();
    const a = img.malloc('a', 16);
    const b = img.malloc('b', 64);
    const r = img.search(undefined, [0, 12345, a, b + 10]);
    assert.deepEqual(statesOf(img, [a, b], r), ['reachable', 'possible']);
  });

  it('passes "possibly" on from blocks reached by interior pointers, upgrades on a start pointer', () => {
    const img = new LeakImage();
    const p = img.malloc('p', 32);
    const q = img.malloc('q', 20);
    const s = img.malloc('s', 24);
    img.store(p, q);           // p → q (start pointer, but p is only possibly reachable)
    img.store(p + 8, s);       // p → s
    img.setGlobal('inside', p + 4);
    img.setGlobal('direct', s); // s also directly reachable
    assert.deepEqual(statesOf(img, [p, q, s]), ['possible', 'possible', 'reachable']);
  });

  it('builds cliques: the first unreached block leads, a later leader absorbs an earlier one', () => {
    const img = new LeakImage();
    const x = img.malloc('x', 40);
    const y = img.malloc('y', 24);
    img.store(y, x);
    const head = img.malloc('list', 16);
    const n1 = img.malloc('list', 16);
    const n2 = img.malloc('list', 16);
    img.store(head, n1);
    img.store(n1, n2);
    img.store(n2, head); // a cycle back to the head: it stays the leader
    const r = img.search();
    assert.deepEqual(statesOf(img, [x, y, head, n1, n2], r), ['indirect', 'definite', 'definite', 'indirect', 'indirect']);
    const ind = (a: number) => r.indirectBytes[r.blocks.findIndex((b) => b.start === a)];
    assert.equal(ind(y), 40);
    assert.equal(ind(head), 32);
    assert.equal(ind(x), 0);
  });

  it('counts a pointer to a zero-sized block as pointing at it', () => {
    const img = new LeakImage();
    const z = img.malloc('z', 0);
    img.setGlobal('z', z);
    assert.deepEqual(statesOf(img, [z]), ['reachable']);
  });

  it('applies each heuristic only when enabled, and clears it on a later start pointer', () => {
    const img = new LeakImage();
    const arr = img.malloc('newarr', 8 + 5 * 8, false, 'new[]');
    img.store(arr, 5);
    img.setGlobal('arr', arr + 8);
    const len = img.malloc('length64', 108);
    img.store(len, 100);
    img.setGlobal('len', len + 8);
    const str = img.malloc('rep', 24 + 30 + 1);
    img.store(str, 10);
    img.store(str + 8, 30);
    img.setGlobal('str', str + 24);
    // A start pointer found later makes the heuristic unnecessary.
    const both = img.malloc('both', 8 + 4 * 8);
    img.store(both, 4);
    img.setGlobal('both-interior', both + 8);
    img.setGlobal('both-start', both);
    const all = img.search();
    assert.deepEqual(statesOf(img, [arr, len, str, both], all), ['reachable', 'reachable', 'reachable', 'reachable']);
    assert.deepEqual(all.heuristicTotals, [
      { name: 'stdstring', bytes: 55, blocks: 1 },
      { name: 'length64', bytes: 108, blocks: 1 },
      { name: 'newarray', bytes: 48, blocks: 1 },
      { name: 'multipleinheritance', bytes: 0, blocks: 0 },
    ]);
    const none = img.search(new Set());
    assert.deepEqual(statesOf(img, [arr, len, str, both], none), ['possible', 'possible', 'possible', 'reachable']);
    assert.ok(none.heuristicTotals.every((h) => h.blocks === 0));
    const onlyNewArray = img.search(parseLeakHeuristics('newarray'));
    // length64's block also looks like a new[] of 100 one-byte elements.
    assert.deepEqual(statesOf(img, [arr, len, str], onlyNewArray), ['reachable', 'reachable', 'possible']);
  });

  it('parses --leak-check-heuristics', () => {
    assert.deepEqual([...(parseLeakHeuristics('all') ?? [])], LEAK_HEURISTICS);
    assert.deepEqual([...(parseLeakHeuristics('none') ?? ['x'])], []);
    assert.deepEqual([...(parseLeakHeuristics('stdstring,newarray') ?? [])], ['stdstring', 'newarray']);
    assert.equal(parseLeakHeuristics('stdstring,bogus'), undefined);
  });

  it('searches pool chunks instead of the malloc block holding them, and MALLOCLIKE blocks instead of their host', () => {
    const blk = (start: number, size: number, ctx: string, custom = false): LeakBlock<string> => ({ start, size, ctx, custom });
    const { blocks } = activeBlocks(
      [blk(0x1000, 0x1000, 'pool-superblock'), blk(0x3000, 0x100, 'host'), blk(0x3010, 0x20, 'malloclike', true), blk(0x5000, 16, 'plain')],
      [blk(0x1100, 0x80, 'chunk1', true), blk(0x1200, 0x80, 'chunk2', true)],
    );
    assert.deepEqual(blocks.map((b) => b.ctx), ['chunk1', 'chunk2', 'malloclike', 'plain']);
  });

  it('groups loss records by state and context key, in Valgrind\'s print order', () => {
    const img = new LeakImage();
    const key = (site: string) => site.split(':')[0];
    for (let i = 0; i < 3; i++) img.malloc('leak:loop', 16);
    img.malloc('leak:other', 16);
    const h = img.malloc('held:x', 48);
    img.setGlobal('h', h);
    const head = img.malloc('list:a', 32);
    const tail = img.malloc('list:b', 16);
    img.store(head, tail);
    const recs = lossRecords(img.search(), { key, stack: (ctx) => [{ ip: 0, fn: ctx }] });
    assert.deepEqual(recs.map((r) => [r.state, r.bytes, r.indirectBytes, r.blocks, r.stack[0].fn]), [
      ['indirect', 16, 0, 1, 'list:b'],
      ['reachable', 48, 0, 1, 'held:x'],
      ['definite', 32, 16, 1, 'list:a'],
      // Same key "leak": merged; the record shows its oldest block's context.
      ['definite', 64, 0, 4, 'leak:loop'],
    ]);
  });

  it('scans megabytes of roots in milliseconds', (t) => {
    const guest = new FakeGuest();
    const shadow = new ShadowMemory();
    const heap = new Heap<number>(shadow, guest);
    const r = rng(99);
    const starts: number[] = [];
    for (let i = 0; i < 100_000; i++) {
      const b = heap.alloc(16 + Math.floor(r() * 100), 16, 'malloc', i % 500);
      if (!b) throw new Error('oom');
      starts.push(b.start);
      // Half of the blocks hold a pointer to an earlier block: chains to mark through.
      if (i > 0 && i % 2 === 0) {
        guest.writeWord(b.start, starts[Math.floor(r() * i)]);
        shadow.makeDefined(b.start, 8);
      }
    }
    // 8 MiB of defined root memory (like a data segment or a big stack) of small integers and
    // text-like junk, with a pointer to every tenth block, plus 8 MiB that is only partly defined.
    const ROOT = 0x10000000;
    const SIZE = 8 * 1024 * 1024;
    const root = guest.map(ROOT, SIZE);
    for (let off = 0; off < SIZE; off += 8) root.bytes[off] = off & 0xff;
    for (let i = 0; i < starts.length; i += 10) guest.writeWord(ROOT + Math.floor(r() * (SIZE / 8)) * 8, starts[i]);
    shadow.makeDefined(ROOT, SIZE);
    const MIXED = 0x20000000;
    guest.map(MIXED, SIZE);
    shadow.makeDefined(MIXED, SIZE);
    for (let off = 0; off < SIZE; off += 4096) shadow.makeUndefined(MIXED + off + 1000, 100);
    const roots = [{ start: ROOT, end: ROOT + SIZE }, { start: MIXED, end: MIXED + SIZE }];
    const blocks = [...heap.liveBlocks()].map((b) => ({ start: b.start, size: b.size, ctx: b.allocCtx, serial: b.serial }));
    // Cold, as at the end of a run: the first search in this process.
    const t0 = process.hrtime.bigint();
    const res = searchLeaks({ blocks, roots, memory: guest, shadow });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const recs = lossRecords(res, { key: (c) => c, stack: () => [] });
    const sum = (s: LeakState) => res.totals[s].blocks;
    assert.equal(sum('definite') + sum('indirect') + sum('possible') + sum('reachable'), 100_000);
    assert.ok(sum('reachable') >= 10_000);
    assert.ok(recs.length > 500);
    // The root scan alone: one block, so marking costs nothing.
    const t1 = process.hrtime.bigint();
    searchLeaks({ blocks: blocks.slice(0, 1), roots, memory: guest, shadow });
    const rootMs = Number(process.hrtime.bigint() - t1) / 1e6;
    const mb = (2 * SIZE) / (1024 * 1024);
    t.diagnostic(`leak search: ${mb} MiB of roots + 100,000 blocks (half holding pointers) in ${ms.toFixed(1)} ms; `
      + `roots alone ${rootMs.toFixed(1)} ms = ${(mb / (rootMs / 1000)).toFixed(0)} MiB/s (${res.scannedBytes} bytes of valid words checked)`);
  });
});
