/**
 * ShadowMemory against a byte-per-byte reference model, its compaction (distinguished chunks,
 * merging back), overlapping copies, high addresses, and the cost of the access hot path.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { SHADOW_CHUNK_SIZE, ShadowMemory } from '../../../engine/memcheck/shadow-memory';
import { nsPerOp } from './support';
import { rng } from '../../support/rng';

const CHUNK = SHADOW_CHUNK_SIZE;

/** The obvious implementation: one A flag and one V byte per byte of a window. */
class Model {
  readonly a: Uint8Array;
  readonly v: Uint8Array;
  constructor(readonly base: number, readonly len: number) {
    this.a = new Uint8Array(len);
    this.v = new Uint8Array(len).fill(0xff);
  }
  set(addr: number, len: number, a: number, v: number): void {
    for (let i = addr - this.base; i < addr - this.base + len; i++) { this.a[i] = a; this.v[i] = a ? v : 0xff; }
  }
  definedIfAddressable(addr: number, len: number): void {
    for (let i = addr - this.base; i < addr - this.base + len; i++) if (this.a[i]) this.v[i] = 0;
  }
  definedIfNoAccess(addr: number, len: number): void {
    for (let i = addr - this.base; i < addr - this.base + len; i++) if (!this.a[i]) { this.a[i] = 1; this.v[i] = 0; }
  }
  copy(src: number, dst: number, len: number): void {
    const a = this.a.slice(src - this.base, src - this.base + len);
    const v = this.v.slice(src - this.base, src - this.base + len);
    this.a.set(a, dst - this.base);
    this.v.set(v, dst - this.base);
  }
  setV(addr: number, bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) if (this.a[addr - this.base + i]) this.v[addr - this.base + i] = bytes[i];
  }
  first(addr: number, len: number, bad: (i: number) => boolean): number {
    for (let i = addr - this.base; i < addr - this.base + len; i++) if (bad(i)) return this.base + i;
    return -1;
  }
}

describe('ShadowMemory', () => {
  it('starts no-access everywhere and takes uniform states', () => {
    const s = new ShadowMemory();
    assert.equal(s.isAddressable(0x1000), false);
    assert.equal(s.checkAccess(0x1000, 8), false);
    s.makeDefined(0x10000, 0x20000);
    assert.equal(s.checkAccess(0x10000, 8), true);
    assert.equal(s.checkDefinedWord(0x2fff8), true);
    assert.equal(s.checkAccess(0x2fff8, 16), false, 'runs off the end of the mapping');
    assert.equal(s.firstUnaddressable(0x2fff0, 32), 0x30000);
    s.makeUndefined(0x18000, 4);
    assert.equal(s.isDefinedByte(0x18000), false);
    assert.equal(s.isAddressable(0x18000), true);
    assert.equal(s.firstUndefined(0x17ff0, 100), 0x18000);
    assert.equal(s.firstNotDefined(0x18004, 100), -1);
    assert.deepEqual([...s.getVbits(0x17ffe, 4)], [0, 0, 0xff, 0xff]);
  });

  it('keeps detail only for mixed chunks and folds them back when they become uniform', () => {
    const s = new ShadowMemory();
    s.makeDefined(0, 8 * CHUNK);
    assert.deepEqual({ ...s.stats(), totalBytes: 0 }, { detailedChunks: 0, undefinedChunks: 0, definedChunks: 8, detailBytes: 0, totalBytes: 0 });
    s.makeUndefined(CHUNK + 100, 10);
    assert.equal(s.stats().detailedChunks, 1);
    // Undefining the rest of that chunk in two partial steps makes it uniform again.
    s.makeUndefined(CHUNK, 100);
    s.makeUndefined(CHUNK + 110, CHUNK - 110);
    assert.equal(s.stats().detailedChunks, 0);
    assert.equal(s.stats().undefinedChunks, 1);
    // A big munmap leaves nothing behind: no-access chunks are not stored at all.
    s.makeUndefined(5 * CHUNK + 7, 3);
    s.makeNoAccess(0, 8 * CHUNK);
    assert.deepEqual({ ...s.stats() }, { detailedChunks: 0, undefinedChunks: 0, definedChunks: 0, detailBytes: 0, totalBytes: 0 });
    // Partial V writes that restore the uniform value merge too.
    s.makeDefined(0, CHUNK);
    s.setVbits(10, Uint8Array.of(0x0f));
    assert.equal(s.stats().detailedChunks, 1);
    s.setVbits(10, Uint8Array.of(0));
    assert.equal(s.stats().detailedChunks, 0);
  });

  it('handles addresses above 2^32 and near 2^47', () => {
    const s = new ShadowMemory();
    for (const base of [2 ** 32 - 8, 2 ** 40 + 3, 2 ** 47 - 2 * CHUNK]) {
      s.makeDefined(base, 24);
      assert.equal(s.checkAccess(base, 8), true);
      assert.equal(s.checkAccess(base + 20, 8), false);
      assert.equal(s.firstUnaddressable(base, 32), base + 24);
      assert.equal(s.isAddressable(base - 1), false);
      s.makeNoAccess(base, 24);
      assert.equal(s.isAddressable(base), false);
    }
  });

  it('copies A and V state across overlapping ranges in both directions', () => {
    const base = 3 * CHUNK - 300;
    for (const [src, dst] of [[base, base + 100], [base + 100, base]] as const) {
      const s = new ShadowMemory();
      const m = new Model(base, 1000);
      // A recognisable pattern: no-access, defined, undefined and partially defined bytes.
      for (let i = 0; i < 600; i++) {
        const a = i % 7 === 0 ? 0 : 1;
        const v = i % 3 === 0 ? 0 : i % 3 === 1 ? 0xff : i & 0xff;
        if (a) { s.makeDefined(base + i, 1); s.setVbits(base + i, Uint8Array.of(v)); } else s.makeNoAccess(base + i, 1);
        m.set(base + i, 1, a, v);
      }
      s.copy(src, dst, 500);
      m.copy(src, dst, 500);
      assert.deepEqual([...s.getVbits(base, 1000)], [...m.v]);
      for (let i = 0; i < 1000; i++) assert.equal(s.isAddressable(base + i), m.a[i] === 1, `byte ${i}`);
    }
  });

  it('agrees with the reference model under random operations', () => {
    const r = rng(12345);
    // Three chunks, starting at an odd high address so pieces straddle chunk boundaries.
    const base = 2 ** 36 + 5 * CHUNK - 4321;
    const len = 3 * CHUNK + 9000;
    const s = new ShadowMemory();
    const m = new Model(base, len);
    const range = (max: number): [number, number] => {
      // Mostly small ranges, sometimes whole-chunk-sized ones.
      const n = r() < 0.15 ? Math.floor(r() * Math.min(max, 2 * CHUNK)) : Math.floor(r() * 300);
      const a = base + Math.floor(r() * (len - n));
      return [a, n];
    };
    for (let step = 0; step < 3000; step++) {
      const op = Math.floor(r() * 9);
      const [a, n] = range(len);
      switch (op) {
        case 0: s.makeNoAccess(a, n); m.set(a, n, 0, 0xff); break;
        case 1: s.makeUndefined(a, n); m.set(a, n, 1, 0xff); break;
        case 2: s.makeDefined(a, n); m.set(a, n, 1, 0); break;
        case 3: s.makeDefinedIfAddressable(a, n); m.definedIfAddressable(a, n); break;
        case 4: s.makeDefinedIfNoAccess(a, n); m.definedIfNoAccess(a, n); break;
        case 5: {
          const dst = base + Math.floor(r() * (len - n));
          s.copy(a, dst, n); m.copy(a, dst, n);
          break;
        }
        case 6: {
          const bytes = new Uint8Array(Math.min(n, 64)).map(() => [0, 0xff, Math.floor(r() * 256)][Math.floor(r() * 3)]);
          s.setVbits(a, bytes); m.setV(a, bytes);
          break;
        }
        case 7: case 8: {
          // Translated code's stores: mostly defined data (the fast paths), near the other ranges.
          for (let k = 0; k < 20; k++) {
            const size = [1, 2, 4, 8, 16][Math.floor(r() * 5)];
            const near = Math.min(a + Math.floor(r() * 64), base + len - size);
            // Half of them aligned to their size, as most stores are (the word fast paths).
            const at = r() < 0.5 ? near - (near % size) : near;
            const bytes = new Uint8Array(size).map(() => (op === 7 ? 0 : [0, 0xff, Math.floor(r() * 256)][Math.floor(r() * 3)]));
            let v = 0n;
            for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
            s.storeV(at, size, v); m.setV(at, bytes);
          }
          break;
        }
      }
      if (step % 100 === 99) {
        assert.deepEqual(s.getVbits(base, len), m.v, `V bits after step ${step}`);
        for (let k = 0; k < 200; k++) {
          const [qa, qn] = range(len);
          assert.equal(s.firstUnaddressable(qa, qn), m.first(qa, qn, (i) => !m.a[i]), 'firstUnaddressable');
          assert.equal(s.firstNotDefined(qa, qn), m.first(qa, qn, (i) => !m.a[i] || m.v[i] !== 0), 'firstNotDefined');
          assert.equal(s.firstUndefined(qa, qn), m.first(qa, qn, (i) => m.a[i] === 1 && m.v[i] !== 0), 'firstUndefined');
          const size = [1, 2, 4, 8, 16, 32][k % 6];
          assert.equal(s.checkAccess(qa, size), m.first(qa, size, (i) => !m.a[i]) < 0, 'checkAccess');
          if (size <= 16 && s.checkAccess(qa, size)) {
            let want = 0n;
            for (let i = size - 1; i >= 0; i--) want = (want << 8n) | BigInt(m.v[qa - base + i]);
            assert.equal(s.loadV(qa, size), want, 'loadV');
          }
          const w = qa - (qa % 8);
          if (w >= base && w + 8 <= base + len) {
            assert.equal(s.isValidAlignedWord(w), m.first(w, 8, (i) => !m.a[i] || m.v[i] !== 0) < 0, 'isValidAlignedWord');
          }
        }
      }
    }
    // Whatever the history, the detail is only where the model is mixed.
    let mixedChunks = 0;
    for (let no = Math.floor(base / CHUNK); no * CHUNK < base + len; no++) {
      const lo = Math.max(base, no * CHUNK) - base;
      const hi = Math.min(base + len, (no + 1) * CHUNK) - base;
      const whole = lo === no * CHUNK - base && hi === (no + 1) * CHUNK - base;
      if (!whole) continue;
      const cls = (i: number) => (!m.a[i] ? 'n' : m.v[i] === 0 ? 'd' : m.v[i] === 0xff ? 'u' : 'p');
      let uniform = true;
      for (let i = lo + 1; i < hi; i++) if (cls(i) !== cls(lo) || cls(lo) === 'p') { uniform = false; break; }
      if (!uniform) mixedChunks++;
    }
    assert.ok(s.stats().detailedChunks <= mixedChunks + 2, 'only mixed chunks (and the two partial edge chunks) keep detail');
  });

  it('measures the checkAccess hot path', (t) => {
    const s = new ShadowMemory();
    const stack = 0x7ff000000000;
    s.makeDefined(stack, 8 * CHUNK);
    // A heap-like chunk: 48-byte slots with 16 defined bytes and no-access redzones.
    const heap = 0x4a00000;
    for (let i = 0; i < CHUNK; i += 48) s.makeUndefined(heap + i + 24, 16);
    // A chunk that is all addressable but with mixed definedness.
    const mixed = 0x5000000;
    s.makeDefined(mixed, CHUNK);
    s.makeUndefined(mixed + 100, 3);
    const N = 2_000_000;
    let ok = 0;
    const uniform = nsPerOp(N, (i) => { if (s.checkAccess(stack + ((i * 8) & 0x7fff8), 8)) ok++; });
    const addressable = nsPerOp(N, (i) => { if (s.checkAccess(mixed + ((i * 8) & 0xfff8), 8)) ok++; });
    const redzoned = nsPerOp(N, (i) => { if (s.checkAccess(heap + 24 + 48 * (i % 1300) + (i & 8), 8)) ok++; });
    const crossing = nsPerOp(N / 4, (i) => { if (s.checkAccess(stack + CHUNK - 4 + (i & 1) * CHUNK, 8)) ok++; });
    assert.ok(ok > 0);
    t.diagnostic(`checkAccess ns/op: distinguished chunk ${uniform.toFixed(1)}, all-addressable mixed chunk ${addressable.toFixed(1)}, `
      + `heap chunk with redzones ${redzoned.toFixed(1)}, access crossing a chunk boundary ${crossing.toFixed(1)}`);
    const heapStats = s.stats();
    t.diagnostic(`shadow bytes: ${heapStats.totalBytes} for ${heapStats.detailedChunks} detailed chunks`);
  });
});
