/**
 * Memcheck's origin tracking on lifted x86 snippets: blocks instrumented with `{ origins: true }`
 * run, interpreted and compiled, against stub mc_* helpers backed by ShadowMemory (V bits) and
 * OriginMemory (otags). An undefined heap word keeps its allocation's otag through arithmetic,
 * register copies, stores and reloads, up to the check that reports it; after a defined store no
 * load sees the word's old tag; defined loads and stores call no origin helper; code for
 * defined-by-construction values carries no otag code; and without `origins` the instrumented
 * IR is what it was.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { compileBlock } from '../../../engine/jit/codegen';
import { gprOff, GUEST_STATE_SIZE, GuestState, ORIGIN_OFFSET, SHADOW_OFFSET, xmmOff } from '../../../engine/jit/guest-state';
import { DirtyFn, InterpEnv, interpret } from '../../../engine/jit/interp';
import { IRSB } from '../../../engine/jit/ir';
import { checkIRSB } from '../../../engine/jit/ir-check';
import { ppIRSB } from '../../../engine/jit/ir-print';
import { liftBlock } from '../../../engine/jit/lift/lift';
import { GuestMemoryAccess } from '../../../engine/jit/memory';
import { optimize } from '../../../engine/jit/opt';
import { describeOtag, OriginMemory, OriginTags } from '../../../engine/memcheck/origin-memory';
import { ShadowMemory } from '../../../engine/memcheck/shadow-memory';
import { instrumentMemcheck, MC_DIRTY_SIGNATURES, MC_ORIGIN_DIRTY_SIGNATURES } from '../../../engine/memcheck/vbits';
import { Gen, NOT_STRAIGHT } from '../jit/gen';
import { rng } from '../../support/rng';

const RAX = 0;
const RCX = 1;
const RDX = 2;
const RBX = 3;
const RSP = 4;
const RSI = 6;
const R8 = 8;

/** Guest data: 64 KiB at DATA; the "heap block" at HEAP, a second buffer at BUF. */
const DATA = 0x10000;
const HEAP = 0x18000;
const BUF = 0x18100;

const tags = new OriginTags<{ where: string }>();
const HEAP_TAG = tags.tag('heap', { where: 'malloc in main' });
const STACK_TAG = tags.tag('stack', { where: 'main' });

/** Concrete bytes of the data window (the values; V bits and otags live in the shadow memories). */
class Bytes implements GuestMemoryAccess {
  readonly bytes = new Uint8Array(0x10000);
  load(addr: number, size: number): bigint {
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.bytes[addr - DATA + i]);
    return v;
  }
  store(addr: number, size: number, value: bigint): void {
    for (let i = 0; i < size; i++) this.bytes[addr - DATA + i] = Number((value >> BigInt(8 * i)) & 0xffn);
  }
}

interface Report { kind: 'cond' | 'value'; size?: number; otag: number; at: number }

/** One guest: state, memory, shadow memories, the reports and how often mc_loado ran. */
class World {
  readonly s = new GuestState();
  readonly mem = new Bytes();
  readonly shadow = new ShadowMemory();
  readonly origins = new OriginMemory();
  readonly reports: Report[] = [];
  loadoCalls = 0;
  storeoCalls = 0;

  constructor() {
    this.shadow.makeDefined(DATA, 0x10000);
  }

  /** The stub helpers, as the engine would supply them. */
  readonly dirty: Record<string, DirtyFn> = {
    mc_loadv: (_ia, a, n) => {
      let v = 0n;
      this.shadow.getVbits(Number(a), Number(n)).reduceRight((_, b) => { v = (v << 8n) | BigInt(b); return 0; }, 0);
      return v;
    },
    mc_storev: (_ia, a, n, v) => {
      const bytes = new Uint8Array(Number(n));
      for (let i = 0; i < bytes.length; i++) bytes[i] = Number((v >> BigInt(8 * i)) & 0xffn);
      this.shadow.setVbits(Number(a), bytes);
      return undefined;
    },
    mc_loado: (_ia, a, n) => { this.loadoCalls++; return BigInt(this.origins.get(Number(a), Number(n))); },
    mc_storeo: (_ia, a, n, o) => { this.storeoCalls++; this.origins.set(Number(a), Number(n), Number(o)); return undefined; },
    mc_cond_fail: (at, o) => { this.reports.push({ kind: 'cond', otag: Number(o), at }); return undefined; },
    mc_value_fail: (at, n, o) => { this.reports.push({ kind: 'value', size: Number(n), otag: Number(o), at }); return undefined; },
  };

  /** A heap word: undefined, tagged as malloc's, holding `value`. */
  heapWord(addr: number, value = 0n): void {
    this.shadow.makeUndefined(addr, 8);
    this.origins.set(addr, 8, HEAP_TAG);
    this.mem.store(addr, 8, value);
  }

  /** The otag slot of a general register. */
  regTag(r: number): number {
    return Number(this.s.dv.getBigUint64(gprOff(r) + ORIGIN_OFFSET, true));
  }

  setReg(r: number, v: bigint, vbits = 0n, otag = 0): void {
    this.s.setGpr(r, v);
    this.s.dv.setBigUint64(gprOff(r) + SHADOW_OFFSET, vbits, true);
    this.s.dv.setBigUint64(gprOff(r) + ORIGIN_OFFSET, BigInt(otag), true);
  }
}

/** Lifts Intel bytes (hex) at addr. */
function lift(hex: string, addr = 0x1000): IRSB {
  const code = Buffer.from(hex.replace(/\s/g, ''), 'hex');
  return liftBlock((a, n) => (a >= addr && a < addr + code.length ? code.subarray(a - addr, a - addr + n) : undefined), addr);
}

/** Instruments with origins, checks the IR, and returns it with its optimised form (what the engine compiles). */
function instrument(sb: IRSB): { ir: IRSB; opt: IRSB } {
  const ir = instrumentMemcheck(optimize(sb), { origins: true });
  const opt = optimize(ir);
  for (const b of [ir, opt]) assert.deepEqual(checkIRSB(b, MC_ORIGIN_DIRTY_SIGNATURES), [], ppIRSB(b));
  return { ir, opt };
}

/**
 * Runs blocks one after another (block k lifted at 0x1000 + 0x100k) on a world made by setup,
 * interpreted and compiled; both must agree on state, reports and otags. Returns the interpreted world.
 */
function run(blocks: readonly string[], setup: (w: World) => void): World {
  const backends = [
    (sb: IRSB) => { const { ir } = instrument(sb); return (s: GuestState, env: InterpEnv) => interpret(ir, s, env); },
    (sb: IRSB) => compileBlock(instrument(sb).opt),
  ];
  const worlds = backends.map((make) => {
    const w = new World();
    setup(w);
    blocks.forEach((hex, k) => make(lift(hex, 0x1000 + 0x100 * k))(w.s, { mem: w.mem, dirty: w.dirty }));
    return w;
  });
  const [a, b] = worlds;
  assert.deepEqual(b.reports, a.reports, 'compiled code reports as the interpreter does');
  assert.ok(Buffer.from(a.s.bytes).equals(Buffer.from(b.s.bytes)), 'compiled code leaves the same state, shadows and otags');
  for (let addr = DATA; addr < DATA + 0x10000; addr += 4) assert.equal(b.origins.get(addr, 4), a.origins.get(addr, 4));
  return a;
}

describe('memcheck origins on lifted code', () => {
  it('an undefined heap word, loaded, added to a defined value and compared: mc_cond_fail gets the heap otag', () => {
    // mov eax, [rbx]; add eax, ecx; cmp eax, 10; jl +0x10
    const w = run(['8b03 01c8 83f80a 7c10'], (w) => { w.heapWord(HEAP); w.setReg(RBX, BigInt(HEAP)); w.setReg(RCX, 5n); });
    assert.deepEqual(w.reports, [{ kind: 'cond', otag: HEAP_TAG, at: 0x1007 }]);
    const line = describeOtag(tags, w.reports[0].otag, (c) => [{ ip: 0x401000, fn: c.where }]);
    assert.equal(line?.text, 'Uninitialised value was created by a heap allocation');
    assert.equal(line?.stack?.[0].fn, 'malloc in main');
  });

  it('a value stored and reloaded keeps its otag, within a block and across blocks', () => {
    // mov eax, [rbx]; mov [rdx], eax; mov esi, [rdx]; cmp esi, 0; je
    const setup = (w: World): void => { w.heapWord(HEAP); w.setReg(RBX, BigInt(HEAP)); w.setReg(RDX, BigInt(BUF)); };
    const one = run(['8b03 8902 8b32 83fe00 7410'], setup);
    assert.equal(one.origins.get(BUF, 4), HEAP_TAG);
    assert.deepEqual(one.reports, [{ kind: 'cond', otag: HEAP_TAG, at: 0x1009 }]);
    // The same split in two blocks: the tag travels through memory only.
    const two = run(['8b03 8902', '8b32 83fe00 7410'], setup);
    assert.deepEqual(two.reports, [{ kind: 'cond', otag: HEAP_TAG, at: 0x1105 }]);
  });

  it('after a defined store no load sees the old tag; the next undefined store brings its own', () => {
    const setup = (w: World): void => {
      w.heapWord(BUF);
      w.setReg(RDX, BigInt(BUF));
      w.setReg(RCX, 7n);
      w.setReg(RSI, 0n, 0xffn, STACK_TAG);
    };
    // mov dword [rdx], 5; mov [rdx+4], ecx; mov rax, [rdx]; cmp rax, 0; je
    const w = run(['c70205000000 894a04 488b02 4883f800 7410'], setup);
    assert.equal(w.shadow.firstUndefined(BUF, 8), -1);
    assert.deepEqual([w.reports, w.regTag(RAX), w.loadoCalls, w.storeoCalls], [[], 0, 0, 0]);
    // mov dword [rdx], 5; mov [rdx], esi; mov eax, [rdx]; cmp eax, 0; je
    const again = run(['c70205000000 8932 8b02 83f800 7410'], setup);
    assert.deepEqual(again.reports, [{ kind: 'cond', otag: STACK_TAG, at: 0x100d }]);
  });

  it('a defined byte stored into an undefined word keeps the word tag for its undefined bytes', () => {
    // mov byte [rdx], 1; mov eax, [rdx]; cmp eax, 0; je
    const w = run(['c60201 8b02 83f800 7410'], (w) => { w.heapWord(BUF); w.setReg(RDX, BigInt(BUF)); });
    assert.deepEqual(w.reports, [{ kind: 'cond', otag: HEAP_TAG, at: 0x1008 }]);
  });

  it('a register copy keeps the otag in the guest state, across blocks', () => {
    // mov eax, [rbx]; mov ecx, eax; mov r8, rcx  |  cmp r8d, 1; je
    const w = run(['8b03 89c1 4989c8', '4183f801 7410'], (w) => { w.heapWord(HEAP); w.setReg(RBX, BigInt(HEAP)); });
    assert.deepEqual([w.regTag(RAX), w.regTag(RCX), w.regTag(R8)], [HEAP_TAG, HEAP_TAG, HEAP_TAG]);
    assert.deepEqual(w.reports, [{ kind: 'cond', otag: HEAP_TAG, at: 0x1104 }]);
  });

  it('an undefined address reports the address otag (mc_value_fail(size, otag))', () => {
    // mov rax, [rbx]; mov edx, [rax]
    const w = run(['488b03 8b10'], (w) => { w.heapWord(HEAP, BigInt(BUF)); w.setReg(RBX, BigInt(HEAP)); });
    assert.deepEqual(w.reports, [{ kind: 'value', size: 8, otag: HEAP_TAG, at: 0x1003 }]);
  });

  it('when two undefined values meet, the larger otag wins; a stack tag reaches a check through the stack', () => {
    // mov eax, [rsp+8]; add eax, ecx; test eax, eax; jz
    const setup = (w: World): void => {
      w.setReg(RSP, BigInt(DATA + 0x8000));
      w.shadow.makeUndefined(DATA + 0x8000, 16);
      w.origins.set(DATA + 0x8000, 16, STACK_TAG);
      w.setReg(RCX, 0n, 0xffn, HEAP_TAG);
    };
    const w = run(['8b442408 01c8 85c0 7410'], setup);
    assert.deepEqual(w.reports, [{ kind: 'cond', otag: Math.max(HEAP_TAG, STACK_TAG), at: 0x1008 }]);
    assert.equal(tags.lookup(STACK_TAG)?.kind, 'stack');
    const alone = run(['8b442408 85c0 7410'], (w) => { setup(w); w.setReg(RCX, 0n); });
    assert.deepEqual(alone.reports, [{ kind: 'cond', otag: STACK_TAG, at: 0x1006 }]);
  });

  it('defined loads and stores call no origin helper and give no tag', () => {
    // mov eax, [rbx]; mov [rdx], eax
    const w = run(['8b03 8902'], (w) => { w.setReg(RBX, BigInt(HEAP)); w.setReg(RDX, BigInt(BUF)); });
    assert.deepEqual([w.loadoCalls, w.storeoCalls, w.regTag(RAX)], [0, 0, 0]);
  });
});

describe('memcheck origins: the code it costs', () => {
  const originCode = (ir: IRSB): string[] => ppIRSB(ir).split('\n').filter((l) => /origin\.|mc_loado|mc_storeo/.test(l));

  it('values defined by construction get no otag code', () => {
    // mov rax, 5; add rax, 1; mov [rdx], rax; cmp rax, 2; jl
    const { opt } = instrument(lift('48c7c005000000 4883c001 488902 4883f802 7c10'));
    const text = ppIRSB(opt);
    // The only otag read is the address register's, for its check; every otag written is 0.
    assert.ok(!/GET:I64\(origin\.(?!rdx)|ITE|CmpLTU|mc_loado|mc_storeo|mc_cond_fail/.test(text), text);
    assert.ok(originCode(opt).every((l) => /= 0x0:I64$|GET:I64\(origin\.rdx\)/.test(l)), text);
  });

  it('without origins the IR is exactly what it was: no origin statements, checks without an otag', () => {
    const g = new Gen(rng(31));
    for (let n = 0; n < 300; n++) {
      const parts: Uint8Array[] = [];
      let at = 0x1000;
      for (let k = 0; k < 1 + g.int(6); k++) {
        const x = g.insn(at, (i) => !['syscall', 'int3', 'ud2'].includes(i.mnem) && (k === 0 || !NOT_STRAIGHT.has(i.mnem)));
        parts.push(x.bytes);
        at += x.bytes.length;
      }
      const sb = optimize(lift(Buffer.concat(parts).toString('hex')));
      const plain = instrumentMemcheck(sb);
      const text = ppIRSB(plain);
      assert.equal(ppIRSB(instrumentMemcheck(sb, { origins: false })), text);
      assert.deepEqual(checkIRSB(plain, MC_DIRTY_SIGNATURES), [], text);
      assert.deepEqual(originCode(plain), [], text);
      for (const s of plain.stmts) {
        if (s.tag === 'put') assert.ok(s.off < ORIGIN_OFFSET, text);
        if (s.tag === 'wrtmp' && s.e.tag === 'get') assert.ok(s.e.off < ORIGIN_OFFSET, text);
      }
      // And with origins the block is well formed and compiles.
      compileBlock(instrument(sb).opt);
    }
  });

  it('with everything defined, origins leave concrete results alone, report nothing and keep every otag 0', () => {
    const g = new Gen(rng(32));
    for (let n = 0; n < 200; n++) {
      const sb = lift(registerCode(g, false));
      const init = g.state();
      const plain = init.clone();
      interpret(sb, plain, { mem: new Bytes(), dirty: {} });
      const w = new World();
      w.s.bytes.set(init.bytes.subarray(0, GUEST_STATE_SIZE));
      compileBlock(instrument(sb).opt)(w.s, { mem: w.mem, dirty: w.dirty });
      assert.deepEqual(w.reports, [], ppIRSB(sb));
      assert.ok(Buffer.from(w.s.bytes.subarray(0, GUEST_STATE_SIZE)).equals(Buffer.from(plain.bytes.subarray(0, GUEST_STATE_SIZE))), ppIRSB(sb));
      assert.ok(w.s.bytes.subarray(SHADOW_OFFSET).every((x) => x === 0), 'V bits and otags stay 0');
    }
  });
});

describe('memcheck origins: no origin is lost', () => {
  it('with undefined inputs all of tag T, every report names T and every register ends with tag 0 or T', () => {
    const g = new Gen(rng(33));
    let reports = 0;
    for (let n = 0; n < 300; n++) {
      const hex = registerCode(g, true);
      const init = g.state();
      // One to three general registers (not rsp) or xmm registers get undefined bits and tag T.
      const regs = Array.from({ length: 1 + g.int(3) }, () => ({ reg: g.int(31), lo: g.u64() | 1n, hi: g.u64() }));
      const w = run([hex, ...CHECK_EVERY_REGISTER], (w) => {
        w.s.bytes.set(init.bytes.subarray(0, GUEST_STATE_SIZE));
        for (const { reg, lo, hi } of regs) {
          const off = reg < 15 ? gprOff(reg < RSP ? reg : reg + 1) : xmmOff(reg - 15);
          w.s.dv.setBigUint64(off + SHADOW_OFFSET, lo, true);
          if (reg >= 15) w.s.dv.setBigUint64(off + 8 + SHADOW_OFFSET, hi, true);
          w.s.dv.setBigUint64(off + ORIGIN_OFFSET, BigInt(HEAP_TAG), true);
        }
      });
      const where = `${hex} with registers ${regs.map((r) => r.reg).join(', ')} (gpr 0-14 without rsp, then xmm):\n${ppIRSB(instrument(lift(hex)).opt)}`;
      for (const r of w.reports) assert.equal(r.otag, HEAP_TAG, where);
      for (let o = ORIGIN_OFFSET; o < ORIGIN_OFFSET + GUEST_STATE_SIZE; o += 8) {
        assert.ok([0n, BigInt(HEAP_TAG)].includes(w.s.dv.getBigUint64(o, true)), where);
      }
      reports += w.reports.length;
    }
    assert.ok(reports > 400, `only ${reports} reports: the test would prove little`);
  });
});

/** Blocks that branch on each register (test r, r; jz), xmm registers through rax (movq rax, xmmN). */
const CHECK_EVERY_REGISTER: readonly string[] = [
  ...Array.from({ length: 16 }, (_, r) => r).filter((r) => r !== RSP)
    .map((r) => `${r < 8 ? '48' : '4d'}85${(0xc0 + (r & 7) * 9).toString(16)} 7400`),
  ...Array.from({ length: 16 }, (_, x) => `66${x < 8 ? '48' : '4c'}0f7e${(0xc0 + (x & 7) * 8).toString(16)} 4885c0 7400`),
];

/** Random register-only code (no memory operands, no stack); with jcc allowed, a block may end in a check. */
function registerCode(g: Gen, jcc: boolean): string {
  const parts: Uint8Array[] = [];
  let at = 0x1000;
  for (let k = 0; k < 1 + g.int(6); k++) {
    const x = g.insn(at, (i) => (!NOT_STRAIGHT.has(i.mnem) || (jcc && i.mnem === 'jcc')) && !i.ops.some((o) => o.k === 'mem')
      && !['push', 'pop', 'leave', 'pushf', 'movs', 'stos', 'lods', 'cmps', 'scas', 'div', 'idiv'].includes(i.mnem));
    parts.push(x.bytes);
    at += x.bytes.length;
  }
  return Buffer.concat(parts).toString('hex');
}
