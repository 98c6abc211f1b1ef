/**
 * Memcheck's fast translations (instrumentMemcheck with `fast`) under the dispatcher: a block
 * runs as if every value were defined until a register it reads or a byte it loads is not;
 * then it leaves ('SlowPath') before that instruction and the full translation continues from
 * there. What the program observes must not change: the same reports at the same instructions,
 * the same registers and shadow registers, the same instruction count.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { Dispatcher } from '../../../engine/jit/dispatch';
import { gprOff, GuestState, SHADOW_OFFSET } from '../../../engine/jit/guest-state';
import { DirtyFn, InterpEnv } from '../../../engine/jit/interp';
import { GuestMemoryAccess } from '../../../engine/jit/memory';
import { IRBuilder, IRSB, Ty } from '../../../engine/jit/ir';
import { instrumentMemcheck, MC_DIRTY } from '../../../engine/memcheck/vbits';

const CODE = 0x1000;
const DATA = 0x2000;
const RAX = 0;
const RBX = 3;
const RCX = 1;

// 0x1000: mov ecx, 5           0x1005: mov rax, [rbx]       0x1008: test rax, rax
// 0x100b: jz 0x1011            0x100d: add rcx, rax         0x1010: nop       0x1011: ud2
const BYTES = [0xb9, 5, 0, 0, 0, 0x48, 0x8b, 0x03, 0x48, 0x85, 0xc0, 0x74, 0x04, 0x48, 0x01, 0xc1, 0x90, 0x0f, 0x0b];

interface Outcome {
  /** Instructions of the "conditional jump depends on uninitialised value" reports. */
  condFails: number[];
  /** Instructions of the "use of uninitialised value" reports. */
  valueFails: number[];
  rcx: bigint;
  rcxV: bigint;
  insns: number;
  translations: number;
  /** Exits from fast translations to full ones, over all runs. */
  slowPaths: number;
}

/**
 * Runs the code `runs` times with one dispatcher; dataV is the V bits of the 8 bytes at DATA,
 * rbxV those of rbx at entry. Registers and counts are the last run's, reports all runs'.
 */
function run(fast: boolean, dataV: bigint, { rbxV = 0n, rcxV = 0n, hotThreshold = 0, runs = 1 } = {}): Outcome {
  const code = Uint8Array.from(BYTES);
  const fetch = (a: number, n: number): Uint8Array | undefined =>
    a >= CODE && a < CODE + code.length ? code.subarray(a - CODE, Math.min(code.length, a - CODE + n)) : undefined;
  const mem: GuestMemoryAccess = {
    load: (a, size) => { assert.deepEqual([a, size], [DATA, 8]); return 7n; },
    store: () => { throw new Error('no stores here'); },
  };
  const condFails: number[] = [];
  const valueFails: number[] = [];
  const none: DirtyFn = () => undefined;
  const dirty: Record<string, DirtyFn> = {
    [MC_DIRTY.loadV]: () => dataV,
    [MC_DIRTY.storeV]: none,
    [MC_DIRTY.condFail]: (ia) => { condFails.push(ia); return undefined; },
    [MC_DIRTY.valueFail]: (ia) => { valueFails.push(ia); return undefined; },
    [MC_DIRTY.spChange]: none,
    [MC_DIRTY.redzoneUndefined]: none,
    [MC_DIRTY.spReturn]: none,
  };
  const env: InterpEnv = { mem, dirty };
  const d = new Dispatcher(fetch, {
    hotThreshold,
    instrument: (sb) => instrumentMemcheck(sb, { trackSp: true }),
    instrumentFast: fast ? (sb) => instrumentMemcheck(sb, { trackSp: true, fast: true }) : undefined,
  });
  let s = new GuestState();
  let insns = 0;
  for (let i = 0; i < runs; i++) {
    s = new GuestState();
    s.rip = CODE;
    s.u64[gprOff(RBX) >> 3] = BigInt(DATA);
    s.u64[(gprOff(RBX) + SHADOW_OFFSET) >> 3] = rbxV;
    s.u64[(gprOff(RCX) + SHADOW_OFFSET) >> 3] = rcxV;
    const r = d.run(s, env);
    assert.deepEqual([r.exit?.jk, r.exit?.insnAddr], ['SigILL', 0x1011]);
    insns = r.insns;
  }
  const rcxVbits = s.u64[(gprOff(RCX) + SHADOW_OFFSET) >> 3];
  return { condFails, valueFails, rcx: s.gpr(RCX), rcxV: rcxVbits, insns, translations: d.translations, slowPaths: d.slowPaths };
}

describe('memcheck fast translations', () => {
  for (const hotThreshold of [0, 100]) {
    const tier = hotThreshold === 0 ? 'compiled' : 'interpreted';
    it(`defined data stays on the fast translation (${tier})`, () => {
      const fast = run(true, 0n, { hotThreshold });
      assert.deepEqual(fast, { ...run(false, 0n, { hotThreshold }), translations: 1 });
      assert.deepEqual([fast.rcx, fast.rcxV, fast.condFails, fast.valueFails], [12n, 0n, [], []]);
    });

    it(`a register the block overwrites had undefined bits: the full translation defines them (${tier})`, () => {
      // The fast block writes no V bits where its entry check saw 0s; here it sees undefined ones.
      const fast = run(true, 0n, { rcxV: 0xffn, hotThreshold });
      assert.deepEqual(fast, { ...run(false, 0n, { rcxV: 0xffn, hotThreshold }), translations: 2, slowPaths: 1 });
      assert.deepEqual([fast.rcx, fast.rcxV, fast.condFails], [12n, 0n, []]);
    });

    it(`an undefined load leaves before its instruction, and the full translation reports (${tier})`, () => {
      const fast = run(true, 0xffn, { hotThreshold });
      // The fast block from 0x1000, then the full one from the load at 0x1005.
      assert.deepEqual(fast, { ...run(false, 0xffn, { hotThreshold }), translations: 2, slowPaths: 1 });
      assert.deepEqual(fast.condFails, [0x100b]);
      assert.notEqual(fast.rcxV, 0n, 'rcx + an undefined rax is undefined');
    });

    it(`an undefined register the block reads sends it to the full translation at its start (${tier})`, () => {
      // rbx (the load's address) is the only register read before the block writes it.
      const fast = run(true, 0n, { rbxV: 0xffn, hotThreshold });
      assert.deepEqual(fast, { ...run(false, 0n, { rbxV: 0xffn, hotThreshold }), translations: 2, slowPaths: 1 });
      assert.deepEqual(fast.valueFails, [0x1005]);
    });
  }

  it('replaces a fast translation that keeps leaving by its full one, which reports as before', () => {
    const runs = 1100;
    const fast = run(true, 0xffn, { runs });
    // 1,000 exits to the full block at the load (0x1005), then the block at 0x1000 becomes its
    // full translation (a third one): no further exits.
    assert.deepEqual(fast, { ...run(false, 0xffn, { runs }), translations: 3, slowPaths: 1000 });
    assert.equal(fast.condFails.length, runs);
  });

  it('gives no fast translation to a block with an instruction that loads after it wrote', () => {
    const build = (storeFirst: boolean): IRSB => {
      const b = new IRBuilder();
      b.imark(CODE, 4);
      const addr = b.get(gprOff(RBX), Ty.I64);
      if (storeFirst) b.store(addr, b.c(Ty.I64, 1));
      b.put(gprOff(RAX), b.load(Ty.I64, addr));
      return b.finish(CODE, b.c(Ty.I64, CODE + 4), 'Boring', 1, 4);
    };
    assert.ok(instrumentMemcheck(build(false), { fast: true }));
    assert.equal(instrumentMemcheck(build(true), { fast: true }), undefined);
    assert.equal(instrumentMemcheck(build(false), { fast: true, origins: true }), undefined, 'not with --track-origins');
  });
});
