/**
 * The replacement heap: block layout and shadow effects, the freed-block quarantine, address
 * descriptions, counters, fills, client-described blocks and mempools, and lookup speed with
 * many blocks.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { describeAddress } from '../../../engine/errors/address-description';
import { effectiveRedzone, Heap, HeapOptions, isMismatchedFree } from '../../../engine/memcheck/heap';
import { findHeapBlock, heapAddressInfo } from '../../../engine/memcheck/heap-describe';
import { Mempools } from '../../../engine/memcheck/mempools';
import { ShadowMemory } from '../../../engine/memcheck/shadow-memory';
import { FakeGuest, nsPerOp } from './support';
import { rng } from '../../support/rng';

function setup(options: HeapOptions = {}) {
  const guest = new FakeGuest();
  const shadow = new ShadowMemory();
  const heap = new Heap<string>(shadow, guest, options);
  return { guest, shadow, heap };
}

describe('Heap', () => {
  it('rounds the redzone the way Valgrind does', () => {
    assert.equal(effectiveRedzone(16), 24);
    assert.equal(effectiveRedzone(0), 8);
    assert.equal(effectiveRedzone(100), 104);
    assert.equal(effectiveRedzone(24), 24);
  });

  it('hands out aligned payloads with undefined contents between no-access redzones', () => {
    const { heap, shadow, guest } = setup();
    const b = heap.alloc(40, 16, 'malloc', 'site-a');
    assert.ok(b);
    assert.equal(b.start % 16, 0);
    assert.equal(shadow.firstUnaddressable(b.start, 40), -1);
    assert.equal(shadow.firstUndefined(b.start, 40), b.start);
    assert.equal(shadow.isAddressable(b.start - 1), false);
    assert.equal(shadow.isAddressable(b.start + 40), false);
    // Fresh arena memory outside blocks is no-access.
    const seg = guest.grows[0];
    assert.equal(shadow.firstUnaddressable(seg.start, 16), seg.start);
    // calloc: zeroed and defined even when recycled memory held garbage.
    guest.fill(b.start, 40, 0xaa);
    const c = heap.alloc(40, 16, 'malloc', 'site-c', true);
    assert.ok(c);
    assert.equal(shadow.firstNotDefined(c.start, 40), -1);
    assert.deepEqual([...(guest.view(c.start, 40) as Uint8Array)], new Array(40).fill(0));
  });

  it('honours memalign alignments', () => {
    const { heap, shadow } = setup();
    for (const align of [32, 64, 256, 4096, 65536]) {
      heap.alloc(24, 16, 'malloc', 'pad'); // disturb the arena position
      const b = heap.alloc(100, align, 'memalign', 'aligned');
      assert.ok(b);
      assert.equal(b.start % align, 0, `alignment ${align}`);
      assert.equal(shadow.firstUnaddressable(b.start, 100), -1);
      assert.equal(shadow.isAddressable(b.start - 1), false);
    }
    // A non-power-of-two request is rounded up, as Valgrind's memalign does.
    const odd = heap.alloc(8, 48, 'memalign', 'odd');
    assert.ok(odd && odd.start % 64 === 0);
  });

  it('frees into the quarantine and reuses memory only once it has left', () => {
    const { heap, shadow } = setup({ freelistVol: 500, freelistBigBlocks: 400 });
    const a = heap.alloc(300, 16, 'malloc', 'a');
    assert.ok(a);
    const r = heap.free(a.start, 'free-a');
    assert.ok(r.ok);
    assert.equal(shadow.isAddressable(a.start), false);
    assert.equal(heap.quarantined.bytes, 300);
    // Same size again: the freed block is still queued, so it gets fresh memory.
    const b = heap.alloc(300, 16, 'malloc', 'b');
    assert.ok(b && b.start !== a.start);
    const c = heap.alloc(350, 16, 'malloc', 'c');
    const d = heap.alloc(600, 16, 'malloc', 'd');
    assert.ok(c && d);
    heap.free(c.start, 'free-c');
    heap.free(d.start, 'free-d');
    // Frees never release: the queue may exceed its volume until the next allocation.
    assert.equal(heap.quarantined.bytes, 1250);
    // 600 is a big block (≥ 400) and leaves first; 650 > 500 still, so the oldest small
    // block (a) goes too; c stays.
    heap.alloc(8, 16, 'malloc', 'e');
    assert.equal(heap.quarantined.bytes, 350);
    assert.deepEqual([...heap.freedBlocks()].map((x) => x.allocCtx), ['c']);
    // a's memory is free again: a same-sized request gets exactly it.
    const f = heap.alloc(300, 16, 'malloc', 'f');
    assert.equal(f?.start, a.start);
    assert.equal(heap.describe(a.start)?.block.allocCtx, 'f');
  });

  it('puts a block larger than the whole volume at the head of its list', () => {
    const { heap } = setup({ freelistVol: 1000, freelistBigBlocks: 100_000 });
    const small = heap.alloc(100, 16, 'malloc', 'small') ;
    const huge = heap.alloc(5000, 16, 'malloc', 'huge');
    assert.ok(small && huge);
    heap.free(small.start, 'x');
    heap.free(huge.start, 'x');
    assert.deepEqual([...heap.freedBlocks()].map((b) => b.allocCtx), ['huge', 'small']);
    heap.alloc(1, 16, 'malloc', 'trigger');
    assert.deepEqual([...heap.freedBlocks()].map((b) => b.allocCtx), ['small']);
  });

  it('reports invalid and double frees, and counts every free as memcheck does', () => {
    const { heap } = setup();
    const a = heap.alloc(10, 16, 'malloc', 'a');
    assert.ok(a);
    assert.deepEqual(heap.free(a.start + 1, 'x'), { ok: false, reason: 'invalid' });
    assert.ok(heap.free(a.start, 'x').ok);
    const again = heap.free(a.start, 'y');
    assert.equal(again.ok, false);
    assert.equal(!again.ok && again.reason, 'double');
    assert.equal(heap.totalFrees, 3);
    assert.equal(heap.totalAllocs, 1);
    assert.equal(heap.totalBytesAllocated, 10);
    assert.equal(heap.inUseBlocks, 0);
    assert.equal(heap.inUseBytes, 0);
  });

  it('tells mismatched frees', () => {
    assert.equal(isMismatchedFree('malloc', 'free'), false);
    assert.equal(isMismatchedFree('memalign', 'free'), false);
    assert.equal(isMismatchedFree('new', 'delete'), false);
    assert.equal(isMismatchedFree('new[]', 'delete[]'), false);
    assert.equal(isMismatchedFree('custom', 'freelike'), false);
    assert.equal(isMismatchedFree('new', 'free'), true);
    assert.equal(isMismatchedFree('new[]', 'delete'), true);
    assert.equal(isMismatchedFree('malloc', 'delete[]'), true);
    assert.equal(isMismatchedFree('malloc', 'freelike'), true);
  });

  it('describes addresses in payloads and redzones, live blocks before freed ones', () => {
    const { heap } = setup();
    const a = heap.alloc(40, 16, 'malloc', 'a');
    const b = heap.alloc(40, 16, 'malloc', 'b');
    assert.ok(a && b);
    assert.deepEqual(pick(heap.describe(a.start + 39)), { ctx: 'a', offset: 39, state: 'live' });
    assert.deepEqual(pick(heap.describe(a.start + 63)), { ctx: 'a', offset: 63, state: 'live' }, '23 bytes after');
    assert.equal(heap.describe(a.start + 64), undefined, 'past the redzone: not described');
    assert.deepEqual(pick(heap.describe(a.start - 24)), { ctx: 'a', offset: -24, state: 'live' });
    assert.equal(heap.describe(a.start - 25), undefined);
    heap.free(a.start, 'freer');
    assert.deepEqual(pick(heap.describe(a.start + 8)), { ctx: 'a', offset: 8, state: 'freed' });
    const fact = findHeapBlock(a.start + 8, heap);
    assert.ok(fact);
    const lines = describeAddress(heapAddressInfo(a.start + 8, fact, (ctx) => [{ ip: 1, fn: ctx }]));
    assert.equal(lines[0].text, `Address 0x${(a.start + 8).toString(16)} is 8 bytes inside a block of size 40 free'd`);
    assert.equal(lines[0].stack?.[0].fn, 'freer');
    assert.equal(lines[1].stack?.[0].fn, 'a');
  });

  it('applies --malloc-fill and --free-fill', () => {
    const { heap, guest } = setup({ mallocFill: 0xab, freeFill: 0xcd });
    const a = heap.alloc(20, 16, 'malloc', 'a');
    assert.ok(a);
    assert.deepEqual([...(guest.view(a.start, 20) as Uint8Array)], new Array(20).fill(0xab));
    const z = heap.alloc(20, 16, 'malloc', 'z', true);
    assert.ok(z);
    assert.deepEqual([...(guest.view(z.start, 20) as Uint8Array)], new Array(20).fill(0));
    heap.free(a.start, 'f');
    assert.deepEqual([...(guest.view(a.start, 20) as Uint8Array)], new Array(20).fill(0xcd));
  });

  it('returns undefined when the arena cannot grow', () => {
    const { heap, guest } = setup({ growStep: 64 * 1024 });
    guest.growLimit = 1024 * 1024;
    assert.equal(heap.alloc(2 * 1024 * 1024, 16, 'malloc', 'big'), undefined);
    assert.equal(heap.alloc(2 ** 50, 16, 'malloc', 'absurd'), undefined);
    assert.ok(heap.alloc(100, 16, 'malloc', 'small'));
  });

  it('coalesces released memory so a large block fits where small ones were', () => {
    const { heap, guest } = setup({ freelistVol: 0 });
    const blocks = Array.from({ length: 64 }, () => heap.alloc(100, 16, 'malloc', 'x'));
    const lo = Math.min(...blocks.map((b) => b?.start ?? Infinity));
    for (const b of blocks) heap.free((b as { start: number }).start, 'f');
    heap.alloc(1, 16, 'malloc', 'flush'); // releases the queue
    const big = heap.alloc(64 * 100, 16, 'malloc', 'big');
    assert.ok(big);
    assert.equal(guest.grows.length, 1, 'no new segment needed');
    assert.ok(big.start >= lo - 64 && big.start < lo + 64 * 176, 'placed in the coalesced space');
  });

  it('registers client-described blocks (MALLOCLIKE / FREELIKE / RESIZEINPLACE)', () => {
    const { heap, shadow } = setup();
    const pools = new Mempools(heap, shadow);
    const base = 0x9000000;
    shadow.makeDefined(base, 4096);
    const b = pools.mallocLike(base + 64, 100, 8, false, 'custom-site');
    assert.equal(b.kind, 'custom');
    assert.equal(heap.inUseBlocks, 1);
    assert.equal(heap.inUseBytes, 100);
    assert.equal(shadow.firstUndefined(base + 64, 100), base + 64);
    assert.equal(shadow.isAddressable(base + 63), false);
    assert.equal(shadow.isAddressable(base + 164), false);
    assert.equal(shadow.isAddressable(base + 172), true, 'only rzB bytes become no-access');
    // Grow in place: the new tail is undefined, followed by a fresh redzone.
    assert.deepEqual(pools.resizeInPlace(base + 64, 100, 150, 8), { ok: true });
    assert.equal(heap.inUseBytes, 150);
    assert.equal(shadow.firstUnaddressable(base + 64, 150), -1);
    assert.equal(shadow.isAddressable(base + 214), false);
    assert.deepEqual(pools.resizeInPlace(base + 64, 100, 50, 8), { ok: false, error: 'invalid-free', addr: base + 64 });
    assert.deepEqual(pools.resizeInPlace(base + 64, 150, 50, 8), { ok: true });
    assert.equal(shadow.isAddressable(base + 64 + 50), false);
    const r = pools.freeLike(base + 64, 8, 'free-site');
    assert.ok(r.ok && !isMismatchedFree(r.block.kind, 'freelike'));
    assert.equal(shadow.isAddressable(base + 64), false);
    assert.deepEqual(pick(heap.describe(base + 70)), { ctx: 'custom-site', offset: 6, state: 'freed' });
    // A new custom block over the freed one is a "recently re-allocated block".
    shadow.makeDefined(base, 4096);
    pools.mallocLike(base + 64, 50, 0, true, 'again');
    const fact = findHeapBlock(base + 70, heap, pools);
    assert.equal(fact?.description, 'recently re-allocated block');
    assert.equal(fact?.kind, 'mallocd');
  });

  it('keeps mempool bookkeeping and reports misuse as values', () => {
    const { heap, shadow } = setup();
    const pools = new Mempools(heap, shadow);
    const pool = 0x8000000;
    const sb = 0x8100000;
    shadow.makeNoAccess(sb, 4096);
    assert.deepEqual(pools.alloc(pool, sb, 10, 'x'), { ok: false, error: 'illegal-mempool', pool });
    assert.deepEqual(pools.create(pool, 4, false), { ok: true });
    assert.deepEqual(pools.create(pool, 4, false), { ok: false, error: 'duplicate-pool', pool });
    assert.deepEqual(pools.create(pool + 8, 0, false, { autoFree: true }), { ok: false, error: 'autofree-needs-metapool', pool: pool + 8 });
    assert.equal(pools.exists(pool), true);
    assert.deepEqual(pools.alloc(pool, sb + 16, 32, 'chunk1'), { ok: true });
    assert.deepEqual(pools.alloc(pool, sb + 64, 32, 'chunk2'), { ok: true });
    assert.equal(shadow.firstUnaddressable(sb + 16, 32), -1);
    assert.equal(heap.totalAllocs, 2, 'mempool allocations count in total heap usage');
    assert.equal(heap.inUseBlocks, 0, '… but not in use');
    // Pool chunks are described (with the pool redzone) before heap blocks, as client blocks.
    assert.deepEqual(pickFact(findHeapBlock(sb + 16 + 33, heap, pools)), { ctx: 'chunk1', offset: 33, kind: 'client' });
    assert.deepEqual(pools.free(pool, sb + 17, 'f'), { ok: false, error: 'invalid-free', addr: sb + 17 });
    assert.deepEqual(pools.free(pool, sb + 16, 'f'), { ok: true });
    assert.deepEqual(pickFact(findHeapBlock(sb + 20, heap, pools)), { ctx: 'chunk1', offset: 4, kind: 'freed' });
    assert.equal(heap.totalFrees, 0, 'MEMPOOL_FREE is not a free() for the counters');
    // change: moves and resizes a chunk without touching the shadow.
    assert.deepEqual(pools.change(pool, sb + 64, sb + 200, 8), { ok: true });
    assert.equal(pickFact(findHeapBlock(sb + 202, heap, pools))?.ctx, 'chunk2');
    assert.deepEqual(pools.change(pool, sb + 64, sb + 300, 8), { ok: false, error: 'invalid-free', addr: sb + 64 });
    // move: the pool is now known by another address.
    assert.deepEqual(pools.move(pool, pool + 0x100), { ok: true });
    assert.equal(pools.exists(pool), false);
    assert.deepEqual(pools.alloc(pool, sb + 400, 8, 'x'), { ok: false, error: 'illegal-mempool', pool });
    assert.deepEqual(pools.destroy(pool + 0x100), { ok: true });
    assert.equal(findHeapBlock(sb + 202, heap, pools), undefined);
    assert.equal(shadow.isAddressable(sb + 200), false);
    assert.deepEqual(pools.destroy(pool + 0x100), { ok: false, error: 'illegal-mempool', pool: pool + 0x100 });
  });

  it('trims mempools: keeps chunks inside, frees chunks outside, cuts straddling ones', () => {
    const { heap, shadow } = setup();
    const pools = new Mempools(heap, shadow);
    const pool = 0x8000000;
    const sb = 0x8100000;
    pools.create(pool, 0, true);
    pools.alloc(pool, sb, 100, 'before');
    pools.alloc(pool, sb + 200, 100, 'straddle-lo');
    pools.alloc(pool, sb + 400, 100, 'inside');
    pools.alloc(pool, sb + 550, 100, 'straddle-hi');
    pools.alloc(pool, sb + 800, 100, 'after');
    assert.deepEqual(pools.trim(pool, sb + 250, 350, 'trim'), { ok: true });
    const chunks = [...pools.chunks()].map((c) => [c.allocCtx, c.start - sb, c.size]).sort((x, y) => (x[1] as number) - (y[1] as number));
    assert.deepEqual(chunks, [['straddle-lo', 250, 50], ['inside', 400, 100], ['straddle-hi', 550, 50]]);
    assert.equal(shadow.isAddressable(sb + 249), false);
    assert.equal(shadow.isAddressable(sb + 250), true);
    assert.equal(shadow.isAddressable(sb + 600), false);
    assert.equal(shadow.isAddressable(sb + 800), false);
    assert.deepEqual([...heap.freedBlocks()].map((b) => b.allocCtx).sort(), ['after', 'before']);
  });

  it('auto-free metapools free the malloc-like blocks inside a freed chunk', () => {
    const { heap, shadow } = setup();
    const pools = new Mempools(heap, shadow);
    const pool = 0x8000000;
    const sb = 0x8100000;
    pools.create(pool, 0, false, { autoFree: true, metapool: true });
    pools.alloc(pool, sb, 1000, 'superblock');
    pools.mallocLike(sb + 16, 32, 0, false, 'inner1');
    pools.mallocLike(sb + 64, 32, 0, false, 'inner2');
    pools.mallocLike(sb + 2000, 32, 0, false, 'outside');
    assert.equal(heap.inUseBlocks, 3);
    // Metapool chunks are described only after heap blocks.
    assert.equal(findHeapBlock(sb + 20, heap, pools)?.block.allocCtx, 'inner1');
    assert.equal(findHeapBlock(sb + 500, heap, pools)?.block.allocCtx, 'superblock');
    pools.free(pool, sb, 'f');
    assert.deepEqual([...heap.liveBlocks()].map((b) => b.allocCtx), ['outside']);
  });

  it('measures allocation, describe and free with many blocks', (t) => {
    const { heap } = setup();
    const r = rng(7);
    for (const count of [100_000, 1_000_000]) {
      const blocks: number[] = [];
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < count; i++) {
        const b = heap.alloc(8 + Math.floor(r() * 120), 16, 'malloc', 's');
        if (!b) throw new Error('oom');
        blocks.push(b.start);
      }
      const allocNs = Number(process.hrtime.bigint() - t0) / count;
      // Free every other block: half the lookups hit live blocks, half queued ones.
      const t1 = process.hrtime.bigint();
      for (let i = 0; i < count; i += 2) heap.free(blocks[i], 'f');
      const freeNs = Number(process.hrtime.bigint() - t1) / (count / 2);
      let found = 0;
      const describeNs = nsPerOp(200_000, (i) => {
        const b = blocks[(i * 7919) % count];
        if (heap.describe(b + ((i * 13) % 140) - 20)) found++;
      });
      assert.ok(found > 0);
      // Correctness at this scale: a random sample of payload addresses finds its own block.
      for (let k = 0; k < 1000; k++) {
        const i = Math.floor(r() * count);
        const d = heap.describe(blocks[i] + 3);
        assert.equal(d?.block.start, blocks[i]);
      }
      t.diagnostic(`${count} blocks: alloc ${allocNs.toFixed(0)} ns, free ${freeNs.toFixed(0)} ns, describe ${describeNs.toFixed(0)} ns per op`);
      for (let i = 1; i < count; i += 2) heap.free(blocks[i], 'f');
    }
  });
});

function pick(d: ReturnType<Heap<string>['describe']>) {
  return d && { ctx: d.block.allocCtx, offset: d.offset, state: d.state };
}

function pickFact(f: ReturnType<typeof findHeapBlock<string>>) {
  return f && { ctx: f.block.allocCtx, offset: f.offset, kind: f.kind };
}
