/**
 * OriginMemory against a word-per-word model (partial-word rules, chunk boundaries, overlapping
 * copies, high addresses, chunks made and dropped), the OriginTags registry and its Valgrind
 * texts, and the cost of the load/store hot paths.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { describeOtag, ORIGIN_CHUNK_SIZE, OriginMemory, originText, OriginTags } from '../../../engine/memcheck/origin-memory';
import { nsPerOp } from './support';
import { rng } from '../../support/rng';

const CHUNK = ORIGIN_CHUNK_SIZE;

/** The obvious implementation: one tag per word of a window, the same rules spelled out. */
class Model {
  readonly w: number[];
  constructor(readonly base: number, len: number) {
    this.w = new Array<number>(len / 4).fill(0);
  }
  get(addr: number, size: number): number {
    let m = 0;
    for (let a = Math.floor(addr / 4) * 4; a < addr + size; a += 4) m = Math.max(m, this.w[(a - this.base) / 4]);
    return m;
  }
  set(addr: number, len: number, otag: number): void {
    for (let a = Math.floor(addr / 4) * 4; a < addr + len; a += 4) {
      const covered = a >= addr && a + 4 <= addr + len;
      if (otag !== 0 || covered) this.w[(a - this.base) / 4] = otag;
    }
  }
  copy(src: number, dst: number, len: number): void {
    const writes: [number, number, number][] = [];
    for (let a = Math.floor(dst / 4) * 4; a < dst + len; a += 4) {
      const lo = Math.max(a, dst);
      const hi = Math.min(a + 4, dst + len);
      writes.push([lo, hi - lo, this.get(src + lo - dst, hi - lo)]);
    }
    for (const [a, n, t] of writes) this.set(a, n, t);
  }
}

describe('OriginMemory', () => {
  it('agrees with the model under random sets, clears, copies and loads across a chunk boundary', () => {
    const rand = rng(5);
    const base = 3 * CHUNK - 4096;
    const len = 8192;
    const m = new OriginMemory();
    const model = new Model(base, len);
    const at = (n: number): number => base + Math.floor(rand() * (len - n));
    for (let step = 0; step < 20000; step++) {
      const r = rand();
      const n = rand() < 0.7 ? [1, 2, 4, 8, 16][Math.floor(rand() * 5)] : 1 + Math.floor(rand() * 600);
      const a = at(n);
      if (r < 0.35) {
        const tag = rand() < 0.4 ? 0 : 1 + Math.floor(rand() * 0xfffffffe);
        m.set(a, n, tag);
        model.set(a, n, tag);
      } else if (r < 0.45) {
        const b = at(n);
        m.copy(a, b, n);
        model.copy(a, b, n);
      } else {
        assert.equal(m.get(a, n), model.get(a, n), `get(0x${a.toString(16)}, ${n}) at step ${step}`);
      }
    }
    for (let a = base; a < base + len; a += 4) assert.equal(m.get(a, 4), model.get(a, 4));
  });

  it('partial words: a tag takes the word, a clear leaves it (its other bytes may be undefined)', () => {
    const m = new OriginMemory();
    m.set(0x1000, 16, 0x14);
    m.set(0x1001, 1, 0);
    assert.equal(m.get(0x1000, 4), 0x14, 'a defined byte store keeps the word tag');
    m.set(0x1004, 4, 0);
    assert.equal(m.get(0x1004, 4), 0, 'a covering clear removes it');
    m.set(0x1009, 2, 0x25);
    assert.equal(m.get(0x1008, 1), 0x25);
    assert.equal(m.get(0x1006, 4), 0x25, 'a load over two words gets the larger tag');
  });

  it('allocates nothing for clears of untagged memory and drops chunks cleared whole', () => {
    const m = new OriginMemory();
    m.clear(0x7ff000000000, 1 << 20);
    m.set(0x10, 8, 0);
    assert.equal(m.stats().chunks, 0);
    m.set(5 * CHUNK + 8, 3 * CHUNK, 0x31);
    assert.equal(m.stats().chunks, 4);
    assert.equal(m.get(6 * CHUNK - 2, 4), 0x31, 'a load across chunks');
    m.clear(5 * CHUNK, 4 * CHUNK);
    assert.equal(m.get(5 * CHUNK + 8, 4), 0);
    assert.ok(m.stats().chunks <= 2, 'whole chunks cleared are dropped');
    assert.equal(m.any(5 * CHUNK, 4 * CHUNK), false);
  });

  it('keeps addresses above 2^32 apart', () => {
    const m = new OriginMemory();
    const hi = 2 ** 46 + 0x1230;
    m.set(hi, 8, 0x44);
    assert.equal(m.get(hi + 4, 4), 0x44);
    assert.equal(m.get(hi - 2 ** 32, 8), 0);
    assert.equal(m.get(0x1230, 8), 0);
  });

  it('copies overlapping ranges in both directions', () => {
    const m = new OriginMemory();
    for (let i = 0; i < 16; i++) m.set(0x2000 + 4 * i, 4, 4 * (i + 1) + 1);
    m.copy(0x2000, 0x2008, 32);
    assert.deepEqual([0, 1, 2, 3, 4].map((i) => m.get(0x2000 + 4 * i, 4)), [5, 9, 5, 9, 13]);
    m.copy(0x2010, 0x2000, 8);
    assert.deepEqual([0, 1].map((i) => m.get(0x2000 + 4 * i, 4)), [13, 17]);
    // Misaligned: a destination word gets the max of the source words its bytes come from.
    m.copy(0x2002, 0x2041, 4);
    assert.equal(m.get(0x2040, 4), 17);
    assert.equal(m.get(0x2044, 4), 17);
  });

  it('loads and stores are cheap', (t) => {
    const m = new OriginMemory();
    const stack = 0x7ffff0000000;
    m.set(stack, 0x10000, 0x66);
    const N = 2_000_000;
    let sum = 0;
    const load = nsPerOp(N, (i) => { sum += m.get(stack + ((i * 8) & 0xfff8), 8); });
    const untagged = nsPerOp(N, (i) => { sum += m.get(0x5000000 + ((i * 8) & 0xfff8), 8); });
    const store = nsPerOp(N, (i) => { m.set(stack + ((i * 8) & 0xfff8), 8, i & 1 ? 0x66 : 0); });
    const clearUntagged = nsPerOp(N, (i) => { m.set(0x5000000 + ((i * 8) & 0xfff8), 8, 0); });
    assert.ok(sum > 0);
    t.diagnostic(`OriginMemory ns/op: load ${load.toFixed(1)}, load untagged ${untagged.toFixed(1)}, `
      + `store ${store.toFixed(1)}, clear untagged ${clearUntagged.toFixed(1)}`);
  });
});

describe('OriginTags', () => {
  it('numbers contexts, keeps the kind in the low 2 bits as Valgrind does, and looks tags up', () => {
    const tags = new OriginTags<{ pcs: number[] }>();
    const a = { pcs: [0x401000] };
    const b = { pcs: [0x401234, 0x401000] };
    const heapA = tags.tag('heap', a);
    assert.equal(heapA & 3, 1);
    assert.equal(tags.tag('heap', a), heapA, 'the same pair gives the same tag');
    const stackA = tags.tag('stack', a);
    assert.equal(stackA & 3, 2);
    assert.equal(stackA >>> 2, heapA >>> 2, 'one context, one number (an ECU)');
    const clientB = tags.tag('client', b);
    assert.equal(clientB & 3, 3);
    assert.ok(clientB > heapA);
    assert.equal(tags.tag('unknown', b) & 3, 0);
    assert.deepEqual(tags.lookup(heapA), { kind: 'heap', context: a });
    assert.deepEqual(tags.lookup(clientB), { kind: 'client', context: b });
    assert.equal(tags.lookup(0), undefined);
    assert.equal(tags.lookup(1000 * 4 + 1), undefined);
    assert.equal(tags.size, 2);
  });

  it("gives Valgrind's origin lines", () => {
    assert.equal(originText('heap'), 'Uninitialised value was created by a heap allocation');
    assert.equal(originText('stack'), 'Uninitialised value was created by a stack allocation');
    assert.equal(originText('client'), 'Uninitialised value was created by a client request');
    assert.equal(originText('unknown'), 'Uninitialised value was created');
    const tags = new OriginTags<string>();
    const otag = tags.tag('stack', 'main');
    const frame = { ip: 0x109187, fn: 'main', file: 'example.c', line: 10 };
    const item = describeOtag(tags, otag, (c) => [{ ...frame, fn: c }]);
    assert.equal(item?.text, 'Uninitialised value was created by a stack allocation');
    assert.equal(item?.stack?.[0].fn, 'main');
    assert.equal(describeOtag(tags, 0, () => []), undefined, 'no origin, no line');
  });
});
