/**
 * Memcheck's V-bit pass on small IR snippets and on lifted instructions: each rule of the table
 * (defined-zero improvements, left smear, exact shifts, widening, comparisons, ITE, zeroing
 * idioms), where checks fire (exit guards, addresses, indirect targets; not trap exits; once per
 * value), a soundness property of every operation's rule against random completions of the
 * undefined bits, and that instrumentation leaves the concrete results alone.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { foldOrSimplify } from '../../../engine/jit/fold';
import { gprOff, GuestState, SHADOW_OFFSET, xmmOff } from '../../../engine/jit/guest-state';
import { DirtyFn, InterpEnv, interpret, getState } from '../../../engine/jit/interp';
import { Atom, Binop, Conv, IRBuilder, IRSB, Ty, tyMask, UnopSame } from '../../../engine/jit/ir';
import { checkIRSB } from '../../../engine/jit/ir-check';
import { compileBlock } from '../../../engine/jit/codegen';
import { optimize } from '../../../engine/jit/opt';
import { ppIRSB } from '../../../engine/jit/ir-print';
import { liftBlock } from '../../../engine/jit/lift/lift';
import { GuestMemoryAccess } from '../../../engine/jit/memory';
import type { FusedAccess } from '../../../engine/jit/fused-access';
import { BINOP_RULES, CONV_RULES, instrumentMemcheck, MC_DIRTY_SIGNATURES, McInstrumentOptions, UNOP_RULES } from '../../../engine/memcheck/vbits';
import { Gen, NOT_STRAIGHT } from './gen';
import { rng } from '../../support/rng';

const RAX = 0;
const RCX = 1;
const RDX = 2;
const RBX = 3;

/** A flat memory of 64 KiB at 0x10000 with a V byte per byte, for the mc_* helpers. */
class Mem implements GuestMemoryAccess {
  readonly base = 0x10000;
  readonly bytes = new Uint8Array(0x10000);
  readonly vbits = new Uint8Array(0x10000);
  load(addr: number, size: number): bigint {
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.bytes[addr - this.base + i]);
    return v;
  }
  store(addr: number, size: number, value: bigint): void {
    for (let i = 0; i < size; i++) this.bytes[addr - this.base + i] = Number((value >> BigInt(8 * i)) & 0xffn);
  }
  loadV(addr: number, size: number): bigint {
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.vbits[addr - this.base + i]);
    return v;
  }
  storeV(addr: number, size: number, v: bigint): void {
    for (let i = 0; i < size; i++) this.vbits[addr - this.base + i] = Number((v >> BigInt(8 * i)) & 0xffn);
  }
}

interface Report { kind: 'cond' | 'value'; size?: number; at: number }

/** Loads and stores the fused runs made (so that a test can tell fusion happened). */
let fusedAccesses = 0;

/** Runs a block instrumented; setup writes values and V bits; returns the state and the reports. */
function runShadow(sb: IRSB, setup: (s: GuestState, m: Mem) => void, opts: McInstrumentOptions = {}):
  { s: GuestState; reports: Report[]; mem: Mem; ir: IRSB } {
  const ir = instrumentMemcheck(sb, opts);
  const errs = checkIRSB(ir, MC_DIRTY_SIGNATURES);
  assert.deepEqual(errs, [], ppIRSB(ir));
  // Interpreted, optimised + compiled to JS, and compiled with the shadow accesses fused
  // (fused-access.ts): all must give the same state and reports.
  const fuse = { load: 'mc_loadv', store: 'mc_storev' };
  const runs = [(st: GuestState, env: InterpEnv) => interpret(ir, st, env), compileBlock(optimize(ir)), compileBlock(optimize(ir), { fuse })].map((run) => {
    const s = new GuestState();
    const mem = new Mem();
    setup(s, mem);
    const reports: Report[] = [];
    const dirty: Record<string, DirtyFn> = {
      mc_loadv: (_ia, a, n) => mem.loadV(Number(a), Number(n)),
      mc_storev: (_ia, a, n, v) => { mem.storeV(Number(a), Number(n), v); return undefined; },
      mc_cond_fail: (at) => { reports.push({ kind: 'cond', at }); return undefined; },
      mc_value_fail: (at, n) => { reports.push({ kind: 'value', size: Number(n), at }); return undefined; },
    };
    const fused: FusedAccess = {
      v: 0n,
      load(ia, addr, size) {
        fusedAccesses++;
        this.v = dirty.mc_loadv(ia, BigInt(addr), BigInt(size))!;
        return mem.load(addr, size);
      },
      store(ia, addr, size, v, value) {
        fusedAccesses++;
        dirty.mc_storev(ia, BigInt(addr), BigInt(size), v);
        mem.store(addr, size, value);
      },
    };
    run(s, { mem, dirty, fused });
    return { s, reports, mem, ir };
  });
  for (const r of runs.slice(1)) {
    assert.ok(Buffer.from(runs[0].s.bytes).equals(Buffer.from(r.s.bytes)), `compiled code disagrees:\n${ppIRSB(ir)}`);
    assert.deepEqual(r.reports, runs[0].reports);
    assert.ok(Buffer.from(runs[0].mem.vbits).equals(Buffer.from(r.mem.vbits)));
    assert.ok(Buffer.from(runs[0].mem.bytes).equals(Buffer.from(r.mem.bytes)));
  }
  return runs[0];
}

const setV = (s: GuestState, reg: number, v: bigint): void => s.dv.setBigUint64(gprOff(reg) + SHADOW_OFFSET, v, true);
const getV = (s: GuestState, reg: number): bigint => s.dv.getBigUint64(gprOff(reg) + SHADOW_OFFSET, true);

/** A hand-built block (no folding, so `x & 0` stays an And for the pass to see). */
function block(build: (b: IRBuilder) => Atom | void, jk: IRSB['jk'] = 'Boring'): IRSB {
  const b = new IRBuilder();
  b.imark(0x1000, 4);
  const next = build(b) ?? b.c(Ty.I64, 0x1004);
  return b.finish(0x1000, next, jk, 1, 4);
}

/** rbx = op(rax, rcx) at 64 bits. */
function binopBlock(op: Binop, ty = Ty.I64): IRSB {
  return block((b) => {
    const x = b.get(gprOff(RAX), ty);
    const y = op === 'Shl' || op === 'Shr' || op === 'Sar' ? b.get(gprOff(RCX), Ty.I8) : b.get(gprOff(RCX), ty);
    const r = b.binop(op, x, y);
    b.put(gprOff(RBX), b.ty(r) === Ty.I1 ? b.conv('ZExt', Ty.I64, r) : r);
  });
}

describe('memcheck V-bit rules', () => {
  it('x & 0 is defined when 0 is a defined constant, even if x is undefined', () => {
    const sb = block((b) => b.put(gprOff(RBX), b.binop('And', b.get(gprOff(RAX), Ty.I64), b.c(Ty.I64, 0))));
    const { s } = runShadow(sb, (st) => setV(st, RAX, tyMask(Ty.I64)));
    assert.equal(getV(s, RBX), 0n);
  });

  it('and/or: defined zeros (ones) of one operand mask undefined bits of the other', () => {
    const and = runShadow(binopBlock('And'), (st) => { setV(st, RAX, 0xffffn); st.setGpr(RCX, 0x00ffn); });
    assert.equal(getV(and.s, RBX), 0x00ffn);
    const or = runShadow(binopBlock('Or'), (st) => { setV(st, RAX, 0xffffn); st.setGpr(RCX, 0xff00n); });
    assert.equal(getV(or.s, RBX), 0x00ffn);
    // Both operands undefined in a bit: undefined there.
    const both = runShadow(binopBlock('And'), (st) => { setV(st, RAX, 1n); setV(st, RCX, 1n); });
    assert.equal(getV(both.s, RBX), 1n);
  });

  it('a + b with one undefined low bit has all higher bits undefined (left smear)', () => {
    const low = runShadow(binopBlock('Add'), (st) => setV(st, RAX, 1n));
    assert.equal(getV(low.s, RBX), tyMask(Ty.I64));
    const mid = runShadow(binopBlock('Sub'), (st) => setV(st, RCX, 0x100n));
    assert.equal(getV(mid.s, RBX), BigInt.asUintN(64, -0x100n));
  });

  it('a comparison of a defined and a partly undefined value is undefined, and a jump on it is reported', () => {
    const sb = block((b) => {
      const c = b.binop('CmpLTS', b.get(gprOff(RAX), Ty.I64), b.get(gprOff(RCX), Ty.I64));
      b.put(gprOff(RBX), b.conv('ZExt', Ty.I64, c));
      b.exit(c, 'Boring', 0x2000);
    });
    const bad = runShadow(sb, (st) => setV(st, RCX, 0x10n));
    assert.equal(getV(bad.s, RBX), 1n);
    assert.deepEqual(bad.reports, [{ kind: 'cond', at: 0x1000 }]);
    assert.deepEqual(runShadow(sb, () => undefined).reports, []);
  });

  it('CmpEQ is exact on request: a defined differing bit decides it', () => {
    const setup = (st: GuestState): void => { st.setGpr(RAX, 0x10n); st.setGpr(RCX, 0x11n); setV(st, RAX, 0xf0n); };
    assert.equal(getV(runShadow(binopBlock('CmpEQ'), setup).s, RBX), 1n);
    assert.equal(getV(runShadow(binopBlock('CmpEQ'), setup, { detail: 'yes' }).s, RBX), 0n);
    // Differing only where undefined: still undefined.
    const setup2 = (st: GuestState): void => { st.setGpr(RAX, 0x10n); st.setGpr(RCX, 0x20n); setV(st, RAX, 0xf0n); };
    assert.equal(getV(runShadow(binopBlock('CmpNE'), setup2, { detail: 'yes' }).s, RBX), 1n);
  });

  it('exact add and sub follow the carries: undefined low bits spread only as far as a carry can reach', () => {
    // x + 0x10 with only x's low four bits undefined: 0x10 to 0x1f, so bits 4 and up are known.
    const add = (st: GuestState): void => { st.setGpr(RAX, 0x3n); setV(st, RAX, 0xfn); st.setGpr(RCX, 0x10n); };
    assert.equal(getV(runShadow(binopBlock('Add'), add).s, RBX), tyMask(Ty.I64));
    assert.equal(getV(runShadow(binopBlock('Add'), add, { detail: 'yes' }).s, RBX), 0xfn);
    assert.equal(getV(runShadow(binopBlock('Add'), add, { detail: 'auto' }).s, RBX), 0xfn);
    // 0x100 - (x & 0xf): the borrow may reach bit 8 and below, never above.
    const sub = (st: GuestState): void => { st.setGpr(RAX, 0x100n); st.setGpr(RCX, 0x3n); setV(st, RCX, 0xfn); };
    assert.equal(getV(runShadow(binopBlock('Sub'), sub, { detail: 'yes' }).s, RBX), 0x1ffn);
    // Subtraction stays cheap in auto, as in memcheck.
    assert.equal(getV(runShadow(binopBlock('Sub'), sub, { detail: 'auto' }).s, RBX), tyMask(Ty.I64));
  });

  it('auto: 16- to 64-bit equality comparisons are exact, 8-bit ones are not', () => {
    const setup = (st: GuestState): void => { st.setGpr(RAX, 0x10n); st.setGpr(RCX, 0x11n); setV(st, RAX, 0xf0n); };
    for (const ty of [Ty.I16, Ty.I32, Ty.I64]) assert.equal(getV(runShadow(binopBlock('CmpEQ', ty), setup, { detail: 'auto' }).s, RBX), 0n, `I${ty}`);
    assert.equal(getV(runShadow(binopBlock('CmpEQ', Ty.I8), setup, { detail: 'auto' }).s, RBX), 1n);
    assert.equal(getV(runShadow(binopBlock('CmpEQ', Ty.I8), setup, { detail: 'yes' }).s, RBX), 0n);
  });

  it('shifts by a constant move V bits exactly; an undefined amount makes all undefined', () => {
    const byConst = (op: Binop, n: number): IRSB => block((b) => b.put(gprOff(RBX), b.binop(op, b.get(gprOff(RAX), Ty.I64), b.c(Ty.I8, n))));
    assert.equal(getV(runShadow(byConst('Shl', 8), (st) => setV(st, RAX, 1n)).s, RBX), 0x100n);
    assert.equal(getV(runShadow(byConst('Shr', 4), (st) => setV(st, RAX, 0xf0n)).s, RBX), 0xfn);
    // An undefined sign bit is copied into every bit it fills.
    assert.equal(getV(runShadow(byConst('Sar', 60), (st) => setV(st, RAX, 1n << 63n)).s, RBX), BigInt.asUintN(64, -8n));
    assert.equal(getV(runShadow(byConst('Sar', 60), (st) => setV(st, RAX, 1n << 61n)).s, RBX), 2n);
    assert.equal(getV(runShadow(binopBlock('Shl'), (st) => setV(st, RCX, 1n)).s, RBX), tyMask(Ty.I64));
  });

  it('widening and narrowing', () => {
    const conv = (op: Conv, from: Ty, to: Ty): IRSB => block((b) => {
      const r = b.conv(op, to, b.get(gprOff(RAX), from));
      b.put(gprOff(RBX), b.resize(r, Ty.I64));
    });
    assert.equal(getV(runShadow(conv('ZExt', Ty.I32, Ty.I64), (st) => setV(st, RAX, tyMask(Ty.I64))).s, RBX), 0xffffffffn);
    assert.equal(getV(runShadow(conv('SExt', Ty.I8, Ty.I64), (st) => setV(st, RAX, 0x80n)).s, RBX), BigInt.asUintN(64, -0x80n));
    assert.equal(getV(runShadow(conv('SExt', Ty.I8, Ty.I64), (st) => setV(st, RAX, 0x01n)).s, RBX), 1n);
    assert.equal(getV(runShadow(conv('Narrow', Ty.I64, Ty.I16), (st) => setV(st, RAX, 0xf0f0f0n)).s, RBX), 0xf0f0n);
    assert.equal(getV(runShadow(conv('NarrowHi', Ty.I64, Ty.I32), (st) => setV(st, RAX, 0x1_0000_0000n)).s, RBX), 1n);
  });

  it('ITE steers V bits by a defined condition and trashes them on an undefined one', () => {
    const sb = block((b) => {
      const c = b.binop('CmpEQ', b.get(gprOff(RDX), Ty.I64), b.c(Ty.I64, 0));
      b.put(gprOff(RBX), b.ite(c, b.get(gprOff(RAX), Ty.I64), b.get(gprOff(RCX), Ty.I64)));
    });
    const setup = (st: GuestState): void => { setV(st, RAX, 0xffn); setV(st, RCX, 0xff00n); };
    assert.equal(getV(runShadow(sb, setup).s, RBX), 0xffn);
    assert.equal(getV(runShadow(sb, (st) => { setup(st); st.setGpr(RDX, 1n); }).s, RBX), 0xff00n);
    assert.equal(getV(runShadow(sb, (st) => { setup(st); setV(st, RDX, 4n); }).s, RBX), tyMask(Ty.I64));
  });

  it('zeroing idioms: x ^ x and x - x are defined (xor r,r; sub r,r; pxor x,x)', () => {
    for (const op of ['Xor', 'Sub'] as const) {
      const sb = block((b) => { const x = b.get(gprOff(RAX), Ty.I64); b.put(gprOff(RBX), b.binop(op, x, x)); });
      assert.equal(getV(runShadow(sb, (st) => setV(st, RAX, tyMask(Ty.I64))).s, RBX), 0n, op);
    }
    const pxor = block((b) => { const x = b.get(xmmOff(1), Ty.I128); b.put(xmmOff(2), b.binop('Xor', x, x)); });
    const r = runShadow(pxor, (st) => st.bytes.fill(0xff, xmmOff(1) + SHADOW_OFFSET, xmmOff(1) + SHADOW_OFFSET + 16));
    assert.equal(getState(r.s, xmmOff(2) + SHADOW_OFFSET, Ty.I128), 0n);
  });

  it('loads and stores: addresses are checked once, V bits come from and go to shadow memory', () => {
    const sb = block((b) => {
      const a = b.get(gprOff(RAX), Ty.I64);
      const v = b.load(Ty.I32, a);
      const w = b.load(Ty.I32, b.binop('Add', a, b.c(Ty.I64, 4)));
      b.store(b.binop('Add', a, b.c(Ty.I64, 8)), b.binop('Or', v, w));
    });
    const before = fusedAccesses;
    const r = runShadow(sb, (st, m) => {
      st.setGpr(RAX, 0x10000n);
      setV(st, RAX, 0x4n);
      m.vbits.set([0x0f, 0, 0, 0, 0, 0, 0xff, 0], 0);
    });
    assert.equal(fusedAccesses - before, 3, 'the fused run makes both loads and the store through A');
    // The first use of the undefined address reports; the others see it as defined.
    assert.deepEqual(r.reports, [{ kind: 'value', size: 8, at: 0x1000 }]);
    assert.deepEqual([...r.mem.vbits.subarray(8, 12)], [0x0f, 0, 0xff, 0]);
  });

  it('an indirect jump through an undefined target is reported; a trap exit is not', () => {
    const jmp = block((b) => b.get(gprOff(RAX), Ty.I64), 'Ret');
    assert.deepEqual(runShadow(jmp, (st) => setV(st, RAX, 1n)).reports, [{ kind: 'value', size: 8, at: 0x1000 }]);
    const trap = block((b) => { b.exit(b.binop('CmpEQ', b.get(gprOff(RCX), Ty.I64), b.c(Ty.I64, 0)), 'SigFPE', 0x1000); });
    assert.deepEqual(runShadow(trap, (st) => setV(st, RCX, 1n)).reports, []);
  });
});

// ---------------------------------------------------------------------------- lifted code

/** Lifts Intel bytes at 0x1000 and runs them instrumented from a state set up by setup. */
function runLifted(hex: string, setup: (s: GuestState, m: Mem) => void): { s: GuestState; reports: Report[] } {
  const code = Buffer.from(hex.replace(/\s/g, ''), 'hex');
  const sb = liftBlock((a, n) => (a >= 0x1000 && a < 0x1000 + code.length ? code.subarray(a - 0x1000, a - 0x1000 + n) : undefined), 0x1000);
  return runShadow(sb, setup);
}

describe('memcheck V bits on lifted instructions', () => {
  it('cmp eax, ebx; jl — reported when ebx is undefined, not when it is defined', () => {
    assert.equal(runLifted('39d8 7c10', (s) => setV(s, RBX, 0x80000000n)).reports.length, 1);
    assert.equal(runLifted('39d8 7c10', (s) => setV(s, RBX, 0x8000000000000000n)).reports.length, 0, 'upper half is not compared');
  });

  it('xor eax, eax / sub / and eax, 0 then a test and jump: no report for an undefined rax', () => {
    for (const hex of ['31c0 85c0 7410', '29c0 85c0 7410', '83e000 85c0 7410', '4831c0 4885c0 7410']) {
      assert.deepEqual(runLifted(hex, (s) => setV(s, RAX, tyMask(Ty.I64))).reports, [], hex);
    }
  });

  it('add smears left: testing bits below the lowest undefined one is fine, at or above it is not', () => {
    // add rax, rbx; test al, 7; jz — rbx bit 4 undefined.
    assert.equal(runLifted('4801d8 a807 7410', (s) => setV(s, RBX, 0x10n)).reports.length, 0);
    // add rax, rbx; test eax, 0x100; jz
    assert.equal(runLifted('4801d8 a900010000 7410', (s) => setV(s, RBX, 0x10n)).reports.length, 1);
  });

  it('bt; jae takes the carry from the tested bit alone (a COPY thunk, as VEX specialises it)', () => {
    // bt rsi, rax; jae — rsi bits 8-15 undefined, and so are the flags of the thunk before.
    const setup = (bit: bigint) => (s: GuestState): void => {
      s.setGpr(RAX, bit);
      setV(s, 6 /* rsi */, 0xff00n);
      s.u64[136 >> 3] = BigInt(1 + 2 * 4 + 3); // SUB, 64-bit
      s.dv.setBigUint64(144 + SHADOW_OFFSET, tyMask(Ty.I64), true);
    };
    assert.deepEqual(runLifted('480fa3c6 7310', setup(3n)).reports, []);
    assert.equal(runLifted('480fa3c6 7310', setup(9n)).reports.length, 1);
  });

  it('pcmpeqb/w/d x,x is all ones and defined, whatever x holds', () => {
    // pcmpeqX xmm0, xmm0; movd eax, xmm0; test eax, eax; jz
    for (const op of ['74', '75', '76']) {
      const r = runLifted(`660f${op}c0 660f7ec0 85c0 7410`, (s) => {
        s.dv.setBigUint64(xmmOff(0) + SHADOW_OFFSET, tyMask(Ty.I64), true);
        s.dv.setBigUint64(xmmOff(0) + SHADOW_OFFSET + 8, tyMask(Ty.I64), true);
      });
      assert.deepEqual(r.reports, [], op);
      assert.equal(r.s.gpr(RAX), 0xffffffffn, op);
    }
  });

  it('flags from another block go through the generic helper: pessimistic', () => {
    // The thunk says SUB of (undefined, defined); jl in a new block.
    const r = runLifted('7c10', (s) => {
      s.u64[136 >> 3] = BigInt(1 + 2 * 4 + 3); // SUB, 64-bit
      s.dv.setBigUint64(144 + SHADOW_OFFSET, 1n, true);
    });
    assert.equal(r.reports.length, 1);
  });

  it('cmov and setcc propagate instead of reporting', () => {
    // cmp eax, ebx; cmovl ecx, edx; setl sil
    const r = runLifted('39d8 0f4cca 400f9cc6', (s) => setV(s, RBX, 1n));
    assert.deepEqual(r.reports, []);
    assert.equal(getV(r.s, RCX), tyMask(Ty.I32), 'cmov result undefined (a 32-bit write zero-extends)');
    assert.equal(getV(r.s, 6) & 0xffn, 1n, 'setl gives one undefined bit');
  });

  it('a load through an undefined pointer is reported; the loaded V bits follow memory', () => {
    // mov eax, [rbx]
    const r = runLifted('8b03', (s, m) => { s.setGpr(RBX, 0x10010n); setV(s, RBX, 0xff00n); m.vbits[0x10] = 0x80; });
    assert.deepEqual(r.reports, [{ kind: 'value', size: 8, at: 0x1000 }]);
    assert.equal(getV(r.s, RAX), 0x80n);
  });

  it('push/pop keep V bits through memory; ret to an undefined address is reported', () => {
    // push rax; pop rcx; push rdx; ret
    const r = runLifted('50 59 52 c3', (s) => { s.setGpr(4, 0x18000n); setV(s, RAX, 0xf0n); setV(s, RDX, 1n); });
    assert.equal(getV(r.s, RCX), 0xf0n);
    assert.deepEqual(r.reports, [{ kind: 'value', size: 8, at: 0x1003 }]);
  });
});

// ------------------------------------------------------------------------------ soundness

/**
 * Soundness of a rule: for random values with random undefined bits, every result bit that can
 * change when the undefined input bits change must be marked undefined.
 */
function soundness(op: string, build: (b: IRBuilder, x: Atom, y: Atom) => Atom, tx: Ty, ty: Ty, rand: () => number,
  opts: McInstrumentOptions = {}): string | undefined {
  const b = new IRBuilder(foldOrSimplify);
  b.imark(0x1000, 1);
  const x = b.get(xmmOff(0), tx);
  const y = b.get(xmmOff(1), ty);
  const r = build(b, x, y);
  b.put(xmmOff(2), b.ty(r) === Ty.I1 ? b.conv('ZExt', Ty.I8, r) : r);
  const rty = b.ty(r) === Ty.I1 ? Ty.I8 : b.ty(r);
  const sb = b.finish(0x1000, b.c(Ty.I64, 0x1001), 'Boring', 1, 1);
  const big = (t: Ty): bigint => {
    let v = 0n;
    for (let i = 0; i < t; i += 16) v |= BigInt(Math.floor(rand() * 65536)) << BigInt(i);
    return v & tyMask(t);
  };
  const sparse = (t: Ty): bigint => (rand() < 0.3 ? 0n : rand() < 0.5 ? big(t) & big(t) & big(t) : big(t));
  const noMem: InterpEnv = { mem: new Mem(), dirty: {} };
  for (let trial = 0; trial < 30; trial++) {
    let xv = big(tx);
    let yv = ty === Ty.I8 && (op.includes('Sh') || op.includes('Sar') || op.startsWith('Perm')) ? BigInt(Math.floor(rand() * 80)) : big(ty);
    const vx = sparse(tx);
    const vy = ty === Ty.I8 ? (rand() < 0.8 ? 0n : sparse(ty)) : sparse(ty);
    if (op === 'And' || op === 'Or') { xv &= big(tx); yv &= big(ty); }
    const set = (s: GuestState, a: bigint, c: bigint): void => {
      s.dv.setBigUint64(xmmOff(0), a & tyMask(Ty.I64), true); s.dv.setBigUint64(xmmOff(0) + 8, a >> 64n, true);
      s.dv.setBigUint64(xmmOff(1), c & tyMask(Ty.I64), true); s.dv.setBigUint64(xmmOff(1) + 8, c >> 64n, true);
    };
    const { s } = runShadow(sb, (st) => {
      set(st, xv, yv);
      st.dv.setBigUint64(xmmOff(0) + SHADOW_OFFSET, vx & tyMask(Ty.I64), true); st.dv.setBigUint64(xmmOff(0) + SHADOW_OFFSET + 8, vx >> 64n, true);
      st.dv.setBigUint64(xmmOff(1) + SHADOW_OFFSET, vy & tyMask(Ty.I64), true); st.dv.setBigUint64(xmmOff(1) + SHADOW_OFFSET + 8, vy >> 64n, true);
    }, opts);
    const shadow = getState(s, xmmOff(2) + SHADOW_OFFSET, rty);
    const base = getState(s, xmmOff(2), rty);
    for (let k = 0; k < 12; k++) {
      const st = new GuestState();
      set(st, (xv & ~vx) | (big(tx) & vx), (yv & ~vy) | (big(ty) & vy));
      interpret(sb, st, noMem);
      const got = getState(st, xmmOff(2), rty);
      if ((got ^ base) & ~shadow) {
        return `${op}: x=${xv.toString(16)}/${vx.toString(16)} y=${yv.toString(16)}/${vy.toString(16)} result ${base.toString(16)} vs ${got.toString(16)}, shadow ${shadow.toString(16)}`;
      }
    }
  }
  return undefined;
}

const SHIFTISH = /^(Shl|Shr|Sar)(N|Bytes|$)|^Perm/;
const LANE128 = /x(16|8|4|2)$|^Interleave|Bytes128$|^Perm|^Mull/;

describe('memcheck V-bit rules are sound', () => {
  for (const detail of ['no', 'yes'] as const) {
    it(`for every binary operation (--expensive-definedness-checks=${detail})`, () => {
      const rand = rng(11);
      const failures: string[] = [];
      for (const op of Object.keys(BINOP_RULES) as Binop[]) {
        if (op === 'DivModU' || op === 'DivModS') continue; // lazy; random divisors would trap
        const widths = LANE128.test(op) ? [Ty.I128] : op.endsWith('F') || op === 'CmpF' ? [Ty.I32, Ty.I64] : op === 'HL' ? [Ty.I32] : [Ty.I8, Ty.I32, Ty.I64];
        for (const w of widths) {
          const amountTy = SHIFTISH.test(op) ? Ty.I8 : w;
          const f = soundness(`${op}:I${w}`, (b, x, y) => b.binop(op, x, y), w, amountTy, rand, { detail });
          if (f) failures.push(f);
        }
      }
      assert.deepEqual(failures, []);
    });
  }

  it('for every unary operation and conversion', () => {
    const rand = rng(12);
    const failures: string[] = [];
    for (const op of Object.keys(UNOP_RULES) as UnopSame[]) {
      const w = op === 'SqrtF32' ? Ty.I32 : Ty.I64;
      const f = soundness(op, (b, x) => b.unop(op, x), w, Ty.I8, rand);
      if (f) failures.push(f);
    }
    const CONVS: Record<Conv, [Ty, Ty]> = {
      ZExt: [Ty.I16, Ty.I64], SExt: [Ty.I8, Ty.I32], Narrow: [Ty.I64, Ty.I16], NarrowHi: [Ty.I128, Ty.I64], GetMSBs8x16: [Ty.I128, Ty.I32],
      I32StoF64: [Ty.I32, Ty.I64], I64StoF64: [Ty.I64, Ty.I64], I32StoF32: [Ty.I32, Ty.I32], I64StoF32: [Ty.I64, Ty.I32],
      F32toF64: [Ty.I32, Ty.I64], F64toF32: [Ty.I64, Ty.I32], F64toI32S_Z: [Ty.I64, Ty.I32], F64toI64S_Z: [Ty.I64, Ty.I64],
      F64toI32S_N: [Ty.I64, Ty.I32], F64toI64S_N: [Ty.I64, Ty.I64], F32toI32S_Z: [Ty.I32, Ty.I32], F32toI64S_Z: [Ty.I32, Ty.I64],
      F32toI32S_N: [Ty.I32, Ty.I32], F32toI64S_N: [Ty.I32, Ty.I64],
    };
    for (const op of Object.keys(CONV_RULES) as Conv[]) {
      const [from, to] = CONVS[op];
      const f = soundness(op, (b, x) => b.conv(op, to, x), from, Ty.I8, rand);
      if (f) failures.push(f);
    }
    assert.deepEqual(failures, []);
  });
});

// ------------------------------------------------------------ concrete results unchanged

describe('memcheck instrumentation', () => {
  it('leaves the concrete results of lifted code unchanged and reports nothing when all is defined', () => {
    const g = new Gen(rng(21));
    let blocks = 0;
    for (let n = 0; n < 400; n++) {
      const parts: Uint8Array[] = [];
      let at = 0x1000;
      for (let k = 0; k < 1 + g.int(6); k++) {
        const x = g.insn(at, (i) => !NOT_STRAIGHT.has(i.mnem) && !i.ops.some((o) => o.k === 'mem') && !['push', 'pop', 'leave', 'pushf', 'movs', 'stos', 'lods', 'cmps', 'scas', 'div', 'idiv'].includes(i.mnem));
        parts.push(x.bytes);
        at += x.bytes.length;
      }
      const code = Buffer.concat(parts);
      const sb = liftBlock((a, len) => (a >= 0x1000 && a < 0x1000 + code.length ? code.subarray(a - 0x1000, a - 0x1000 + len) : undefined), 0x1000);
      const init = g.state();
      const plain = init.clone();
      interpret(sb, plain, { mem: new Mem(), dirty: {} });
      const { s, reports } = runShadow(sb, (st) => st.bytes.set(init.bytes.subarray(0, SHADOW_OFFSET)));
      assert.deepEqual(reports, [], ppIRSB(sb));
      assert.ok(Buffer.from(s.bytes.subarray(0, SHADOW_OFFSET)).equals(Buffer.from(plain.bytes.subarray(0, SHADOW_OFFSET))), ppIRSB(sb));
      assert.ok(s.bytes.subarray(SHADOW_OFFSET).every((x) => x === 0), 'all V bits stay defined');
      blocks++;
    }
    assert.equal(blocks, 400);
  });
});


