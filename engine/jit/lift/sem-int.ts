/**
 * Semantics of the integer instructions, one small function per mnemonic of tables.ts.
 * Each reads its operands, computes with IR operations, writes its results and records its flags
 * in the lazy thunk (flags.ts says what each thunk kind's operands mean).
 */
import { F, OSZAPC } from '../flags';
import { OFF, RAX, RBP, RBX, RCX, RDX, RSP } from '../guest-state';
import { Atom, Ty, tyOfSize } from '../ir';
import type { LiftCtx } from './ctx';
import type { Insn } from './decode';

export type Sem = (c: LiftCtx) => void;

const I64 = Ty.I64;

/** Both operands; the same atom twice when they name the same register (so x^x folds to 0). */
export function readPair(c: LiftCtx): [Atom, Atom] {
  const [o0, o1] = c.insn.ops;
  const a = c.read(0);
  const same = o0.k === o1.k && (o0.k === 'gpr' || o0.k === 'xmm') && (o1.k === 'gpr' || o1.k === 'xmm')
    && o0.reg === o1.reg && o0.size === o1.size && (o0.k !== 'gpr' || o1.k !== 'gpr' || o0.hi8 === o1.hi8);
  return [a, same ? a : c.read(1)];
}

/** Operand i as a value of type ty: immediates at that width (sign-extended), others resized. */
function readAs(c: LiftCtx, i: number, ty: Ty): Atom {
  const o = c.op(i);
  if (o.k === 'imm') return c.c(ty, o.value);
  return c.b.resize(c.read(i), ty);
}

// ------------------------------------------------------------------------------ ALU ops

type AluKind = 'add' | 'or' | 'adc' | 'sbb' | 'and' | 'sub' | 'xor' | 'cmp' | 'test';

function alu(kind: AluKind): Sem {
  return (c) => {
    const b = c.b;
    const [x, y] = readPair(c);
    const ty = b.ty(x);
    let r: Atom | undefined;
    switch (kind) {
      case 'add': r = b.binop('Add', x, y); c.setFlags('ADD', x, y); break;
      case 'sub': r = b.binop('Sub', x, y); c.setFlags('SUB', x, y); break;
      case 'cmp': c.setFlags('SUB', x, y); break;
      case 'and': r = b.binop('And', x, y); c.setFlags('LOGIC', r); break;
      case 'or': r = b.binop('Or', x, y); c.setFlags('LOGIC', r); break;
      case 'xor': r = b.binop('Xor', x, y); c.setFlags('LOGIC', r); break;
      case 'test': c.setFlags('LOGIC', b.binop('And', x, y)); break;
      case 'adc': case 'sbb': {
        const cf = c.carry();
        const cin = b.resize(cf, ty);
        r = kind === 'adc' ? b.binop('Add', b.binop('Add', x, y), cin) : b.binop('Sub', b.binop('Sub', x, y), cin);
        c.setFlags(kind === 'adc' ? 'ADC' : 'SBB', x, y, cf);
        break;
      }
    }
    if (r) c.write(0, r);
  };
}

// ------------------------------------------------------------------------- data movement

const mov: Sem = (c) => c.write(0, readAs(c, 1, c.opTy(0)));
const movzx: Sem = (c) => c.write(0, c.b.conv('ZExt', c.opTy(0), c.read(1)));
const movsx: Sem = (c) => c.write(0, c.b.conv('SExt', c.opTy(0), c.read(1)));
const movsxd: Sem = (c) => {
  const v = c.read(1);
  c.write(0, c.opTy(0) === Ty.I64 ? c.b.conv('SExt', I64, v) : c.b.resize(v, c.opTy(0)));
};

const lea: Sem = (c) => {
  const o = c.op(1);
  if (o.k !== 'mem') throw new Error('lea without memory operand');
  c.write(0, c.b.resize(c.ea(o.m, false), c.opTy(0)));
};

const xchg: Sem = (c) => {
  // 90 without REX.B is nop (it would otherwise zero-extend eax); F3 90 is pause.
  if (c.insn.opcode === 0x90 && c.insn.map === 0 && !(c.insn.rex & 1)) return;
  const a = c.read(0);
  const v = c.read(1);
  c.write(0, v);
  c.write(1, a);
};

/** cbw / cwde / cdqe by operand size. */
const cwde: Sem = (c) => {
  const w = c.insn.opsize;
  const src = c.getGpr(RAX, w / 2);
  c.putGpr(RAX, c.b.conv('SExt', tyOfSize(w), src));
};

/** cwd / cdq / cqo: rdx gets the sign of rax. */
const cdq: Sem = (c) => {
  const ty = tyOfSize(c.insn.opsize);
  const a = c.getGpr(RAX, c.insn.opsize);
  c.putGpr(RDX, c.b.binop('Sar', a, c.c(Ty.I8, ty - 1)));
};

/**
 * bswap. With a 16-bit operand size the SDM leaves the result undefined; QEMU (the oracle, and
 * the engine's fallback) ignores the 66 prefix and swaps 32 bits, so this does too.
 */
const bswap: Sem = (c) => {
  const o = c.op(0);
  if (o.k !== 'gpr') throw new Error('bswap operand');
  const size = o.size === 2 ? 4 : o.size;
  c.putGpr(o.reg, c.b.unop('Bswap', c.getGpr(o.reg, size)));
};

const cmovcc: Sem = (c) => {
  const cond = c.cond(c.insn.opcode & 15);
  const src = c.read(1);
  const dst = c.read(0);
  c.write(0, c.b.ite(cond, src, dst));
};

const setcc: Sem = (c) => c.write(0, c.b.conv('ZExt', Ty.I8, c.cond(c.insn.opcode & 15)));

// ------------------------------------------------------------------------------- stack

function push(c: LiftCtx, v: Atom): void {
  const size = c.b.ty(v) >> 3;
  const sp = c.b.binop('Sub', c.getGpr(RSP, 8), c.c(I64, size));
  c.store(sp, v);
  c.putGpr(RSP, sp);
}

const pushOp: Sem = (c) => push(c, readAs(c, 0, tyOfSize(c.insn.opsize)));

const popOp: Sem = (c) => {
  const size = c.insn.opsize;
  const sp = c.getGpr(RSP, 8);
  const v = c.load(tyOfSize(size), sp);
  const o = c.op(0);
  // A memory destination based on rsp uses rsp after the increment (SDM, POP).
  if (o.k === 'mem') c.store(o.m.base === RSP ? c.b.binop('Add', c.ea(o.m), c.c(I64, size)) : c.ea(o.m), v);
  c.putGpr(RSP, c.b.binop('Add', sp, c.c(I64, size)));
  if (o.k !== 'mem') c.write(0, v);
};

/** leave: rsp = rbp, then pop rbp (pop bp with a 66 prefix). */
const leave: Sem = (c) => {
  const size = c.insn.opsize;
  const bp = c.getGpr(RBP, 8);
  const v = c.load(tyOfSize(size), bp);
  c.putGpr(RSP, c.b.binop('Add', bp, c.c(I64, size)));
  c.putGpr(RBP, v);
};

/** The whole RFLAGS as pushf sees it: OSZAPC, DF, and the other bits kept verbatim. */
function fullRflags(c: LiftCtx): Atom {
  const b = c.b;
  const df = b.binop('And', c.get(OFF.DFLAG, I64), c.c(I64, F.D)); // -1 has bit 10 set, +1 does not
  return b.binop('Or', b.binop('Or', c.rflags(), df), c.get(OFF.RFLAGS_OTHER, I64));
}

/** Bits of RFLAGS_OTHER that popf may change at user level: AC and ID. */
const POPF_OTHER = (1n << 18n) | (1n << 21n);

const pushf: Sem = (c) => push(c, c.b.resize(fullRflags(c), tyOfSize(c.insn.opsize)));

const popf: Sem = (c) => {
  const b = c.b;
  const size = c.insn.opsize;
  const sp = c.getGpr(RSP, 8);
  const v = b.resize(c.load(tyOfSize(size), sp), I64);
  const other = c.get(OFF.RFLAGS_OTHER, I64);
  c.putGpr(RSP, b.binop('Add', sp, c.c(I64, size)));
  c.setFlagsCopy(b.binop('And', v, c.c(I64, OSZAPC)));
  const down = b.binop('CmpNE', b.binop('And', v, c.c(I64, F.D)), c.c(I64, 0));
  c.put(OFF.DFLAG, b.ite(down, c.c(I64, -1), c.c(I64, 1)));
  c.put(OFF.RFLAGS_OTHER, b.binop('Or', b.binop('And', other, c.c(I64, ~POPF_OTHER)), b.binop('And', v, c.c(I64, POPF_OTHER))));
};

const SZAPC = F.S | F.Z | F.A | F.P | F.C;

const sahf: Sem = (c) => {
  const b = c.b;
  const ah = b.conv('ZExt', I64, c.getGpr(RAX, 1, true));
  const keepO = b.binop('And', c.rflags(), c.c(I64, F.O));
  c.setFlagsCopy(b.binop('Or', keepO, b.binop('And', ah, c.c(I64, SZAPC))));
};

const lahf: Sem = (c) => {
  const b = c.b;
  const f = b.binop('Or', b.binop('And', c.rflags(), c.c(I64, SZAPC)), c.c(I64, 2));
  c.putGpr(RAX, b.conv('Narrow', Ty.I8, f), true);
};

/** clc / stc / cmc: the carry flag set by a function of the current flags. */
function carryOp(f: (c: LiftCtx, flags: Atom) => Atom): Sem {
  return (c) => c.setFlagsCopy(f(c, c.rflags()));
}

const setDir = (down: boolean): Sem => (c) => c.put(OFF.DFLAG, c.c(I64, down ? -1 : 1));

// ---------------------------------------------------------------------- unary arithmetic

const not: Sem = (c) => c.write(0, c.b.unop('Not', c.read(0)));

const neg: Sem = (c) => {
  const a = c.read(0);
  c.write(0, c.b.unop('Neg', a));
  c.setFlags('SUB', c.c(c.b.ty(a), 0), a);
};

function incdec(kind: 'INC' | 'DEC'): Sem {
  return (c) => {
    const a = c.read(0);
    const cf = c.carry();
    const r = c.b.binop(kind === 'INC' ? 'Add' : 'Sub', a, c.c(c.b.ty(a), 1));
    c.write(0, r);
    c.setFlags(kind, r, undefined, cf);
  };
}

// ------------------------------------------------------------------- multiply and divide

/** mul / imul with one operand: rdx:rax (ah:al for bytes) = rax × src. */
function mul1(signed: boolean): Sem {
  return (c) => {
    const b = c.b;
    const src = c.read(0);
    const ty = b.ty(src);
    const a = c.getGpr(RAX, ty >> 3);
    const lo = b.binop('Mul', a, src);
    const hi = b.binop(signed ? 'MulHiS' : 'MulHiU', a, src);
    if (ty === Ty.I8) {
      c.putGpr(RAX, b.binop('HL', hi, lo));
    } else {
      c.putGpr(RAX, lo);
      c.putGpr(RDX, hi);
    }
    c.setFlags(signed ? 'SMUL' : 'UMUL', a, src);
  };
}

/** imul r, r/m and imul r, r/m, imm: the truncated signed product. */
function imulN(first: number): Sem {
  return (c) => {
    const ty = c.opTy(0);
    const x = readAs(c, first, ty);
    const y = readAs(c, first + 1, ty);
    c.write(0, c.b.binop('Mul', x, y));
    c.setFlags('SMUL', x, y);
  };
}

/**
 * div / idiv: rdx:rax (ax for bytes) divided by src; a zero divisor or a quotient that does not
 * fit raises #DE, which leaves the block as SigFPE at this instruction. Flags are undefined after
 * a division and are left as they were.
 */
function div(signed: boolean): Sem {
  return (c) => {
    const b = c.b;
    const src = c.read(0);
    const ty = b.ty(src);
    const dividend = ty === Ty.I8 ? c.getGpr(RAX, 2) : b.binop('HL', c.getGpr(RDX, ty >> 3), c.getGpr(RAX, ty >> 3));
    let ok: Atom;
    if (signed) {
      ok = b.ccall('amd64_idiv_ok', Ty.I1, [c.c(I64, ty), b.conv('SExt', Ty.I128, dividend), b.conv('SExt', I64, src)]);
    } else {
      // The quotient fits exactly when the high half of the dividend is below the divisor.
      const hi = b.conv('NarrowHi', ty, dividend);
      ok = b.binop('CmpLTU', hi, src);
    }
    c.exitIf(b.unop('Not', ok), c.insn.addr, 'SigFPE');
    const qr = b.binop(signed ? 'DivModS' : 'DivModU', dividend, src);
    const q = b.conv('Narrow', ty, qr);
    const r = b.conv('NarrowHi', ty, qr);
    if (ty === Ty.I8) {
      c.putGpr(RAX, b.binop('HL', r, q));
    } else {
      c.putGpr(RAX, q);
      c.putGpr(RDX, r);
    }
  };
}

// ------------------------------------------------------------------------ shifts, rotates

type ShiftKind = 'shl' | 'shr' | 'sar' | 'rol' | 'ror';

/**
 * Shifts and rotates. The count is masked to 5 bits (6 for 64-bit operands); a masked count of
 * zero changes no flags, which for a count in CL is only known at run time (setFlagsIf).
 * Rotates by count mod width are built from two shifts (a shift by the full width gives 0, so a
 * rotation by 0 comes out right).
 */
function shift(kind: ShiftKind): Sem {
  return (c) => {
    const b = c.b;
    const a = c.read(0);
    const ty = b.ty(a);
    const cnt = c.op(1);
    const mask = ty === Ty.I64 ? 63 : 31;
    const n = cnt.k === 'imm' ? c.c(Ty.I8, cnt.raw & mask) : b.binop('And', c.getGpr(RCX, 1), c.c(Ty.I8, mask));
    const nonzero = b.binop('CmpNE', n, c.c(Ty.I8, 0));
    if (kind === 'rol' || kind === 'ror') {
      const oldFlags = c.rflags();
      const m = b.binop('And', n, c.c(Ty.I8, ty - 1));
      const back = b.binop('Sub', c.c(Ty.I8, ty), m);
      const r = kind === 'rol'
        ? b.binop('Or', b.binop('Shl', a, m), b.binop('Shr', a, back))
        : b.binop('Or', b.binop('Shr', a, m), b.binop('Shl', a, back));
      c.write(0, r);
      c.setFlagsIf(nonzero, () => c.setFlags(kind === 'rol' ? 'ROL' : 'ROR', r, undefined, oldFlags));
      return;
    }
    const op = kind === 'shl' ? 'Shl' : kind === 'shr' ? 'Shr' : 'Sar';
    const r = b.binop(op, a, n);
    const last = b.binop(op, a, b.binop('Sub', n, c.c(Ty.I8, 1)));
    c.write(0, r);
    c.setFlagsIf(nonzero, () => c.setFlags(kind === 'shl' ? 'SHL' : 'SHR', r, last));
  };
}

/**
 * shld/shrd: dest shifted with bits of src coming in. Flags as for shl/shr of dest (CF the last
 * bit out, OF the sign change for a count of 1); a masked count of 0 changes nothing (a 32-bit
 * destination is still written, zero-extended, as by QEMU). 16-bit forms, whose counts above 16
 * are undefined, are left to Unicorn (see NOT_COVERED).
 */
function doubleShift(left: boolean): Sem {
  return (c) => {
    const b = c.b;
    const d = c.read(0);
    const s = c.read(1);
    const ty = b.ty(d);
    const cnt = c.op(2);
    const mask = ty === Ty.I64 ? 63 : 31;
    const n = cnt.k === 'imm' ? c.c(Ty.I8, cnt.raw & mask) : b.binop('And', c.getGpr(RCX, 1), c.c(Ty.I8, mask));
    const back = b.binop('Sub', c.c(Ty.I8, ty), n);
    const nm1 = b.binop('Sub', n, c.c(Ty.I8, 1));
    const r = left
      ? b.binop('Or', b.binop('Shl', d, n), b.binop('Shr', s, back))
      : b.binop('Or', b.binop('Shr', d, n), b.binop('Shl', s, back));
    const nonzero = b.binop('CmpNE', n, c.c(Ty.I8, 0));
    // A zero count must leave the destination as it was: Shr(s, width) is 0, so only the second
    // shift needs care, and the ITE covers it.
    c.write(0, b.ite(nonzero, r, d));
    c.setFlagsIf(nonzero, () => c.setFlags(left ? 'SHL' : 'SHR', r, b.binop(left ? 'Shl' : 'Shr', d, nm1)));
  };
}

/** Forms of covered mnemonics that are left to Unicorn anyway. */
export const NOT_COVERED: Readonly<Record<string, (insn: Insn) => boolean>> = {
  shld: (i) => i.opsize === 2,
  shrd: (i) => i.opsize === 2,
};

// ------------------------------------------------------------------------- bit operations

type BtKind = 'bt' | 'bts' | 'btr' | 'btc';

/**
 * bt/bts/btr/btc: CF = the selected bit; ZF is kept (the others are undefined and kept too).
 * With a register bit offset and a memory operand the offset is signed and selects the word
 * at ea + (offset >> log2(width)) × width, as QEMU and the SDM do.
 */
function bt(kind: BtKind): Sem {
  return (c) => {
    const b = c.b;
    const o = c.op(0);
    const ty = c.opTy(0);
    const src = c.op(1);
    let bit: Atom;
    let addr: Atom | undefined;
    if (src.k === 'imm') {
      bit = c.c(ty, src.raw & (ty - 1));
      if (o.k === 'mem') addr = c.ea(o.m);
    } else {
      const off = c.read(1);
      bit = b.binop('And', off, c.c(ty, ty - 1));
      if (o.k === 'mem') {
        const words = b.binop('Sar', b.conv('SExt', I64, off), c.c(Ty.I8, Math.log2(ty)));
        addr = b.binop('Add', c.ea(o.m), b.binop('Shl', words, c.c(Ty.I8, Math.log2(ty >> 3))));
      }
    }
    const v = addr ? c.load(ty, addr) : c.read(0);
    const n8 = b.resize(bit, Ty.I8);
    const one = b.binop('Shl', c.c(ty, 1), n8);
    const cf = b.binop('And', b.binop('Shr', v, n8), c.c(ty, 1));
    let r: Atom | undefined;
    if (kind === 'bts') r = b.binop('Or', v, one);
    else if (kind === 'btr') r = b.binop('And', v, b.unop('Not', one));
    else if (kind === 'btc') r = b.binop('Xor', v, one);
    const flags = b.binop('Or', b.binop('And', c.rflags(), c.c(I64, ~F.C)), b.resize(cf, I64));
    if (r) {
      if (addr) c.store(addr, r);
      else c.write(0, r);
    }
    c.setFlagsCopy(flags);
  };
}

/** bsf/bsr: the index of the lowest/highest set bit; a zero source sets ZF and keeps the destination. */
function bitScan(reverse: boolean): Sem {
  return (c) => {
    const b = c.b;
    const src = c.read(1);
    const ty = b.ty(src);
    const isZero = b.binop('CmpEQ', src, c.c(ty, 0));
    const idx = reverse ? b.binop('Sub', c.c(ty, ty - 1), b.unop('Clz', src)) : b.unop('Ctz', src);
    c.write(0, b.ite(isZero, c.read(0), idx));
    c.setFlagsCopy(b.ite(isZero, c.c(I64, F.Z), c.c(I64, 0)));
  };
}

// ---------------------------------------------------------------------- atomics (single CPU)

/** xadd: dest = dest + src, src = old dest. */
const xadd: Sem = (c) => {
  const d = c.read(0);
  const s = c.read(1);
  const sum = c.b.binop('Add', d, s);
  c.write(1, d);
  c.write(0, sum);
  c.setFlags('ADD', d, s);
};

/**
 * cmpxchg: compare rAX with dest; equal: dest = src, else rAX = dest. As QEMU (the oracle), the
 * destination is always written (the old value back on failure) and rAX always gets the old
 * destination value (equal to it on success), which zero-extends eax for 32-bit operands.
 */
const cmpxchg: Sem = (c) => {
  const b = c.b;
  const d = c.read(0);
  const s = c.read(1);
  const ty = b.ty(d);
  const acc = c.getGpr(RAX, ty >> 3);
  const eq = b.binop('CmpEQ', acc, d);
  // Register writes happen in QEMU's order (rAX, then the destination), which matters for cmpxchg eax, r.
  if (c.op(0).k === 'gpr') c.putGpr(RAX, d);
  c.write(0, b.ite(eq, s, d));
  if (c.op(0).k !== 'gpr') c.putGpr(RAX, d);
  c.setFlags('SUB', acc, d);
};

// -------------------------------------------------------------------------- control flow

const jcc: Sem = (c) => {
  const t = c.op(0);
  if (t.k !== 'rel') throw new Error('jcc without target');
  c.exitIf(c.cond(c.insn.opcode & 15), t.target);
};

const jmp: Sem = (c) => c.jump(c.b.resize(c.read(0), I64));

const call: Sem = (c) => {
  const target = c.b.resize(c.read(0), I64);
  push(c, c.c(I64, c.nextAddr));
  c.jump(target, 'Call');
};

const ret: Sem = (c) => {
  const b = c.b;
  const sp = c.getGpr(RSP, 8);
  const to = c.load(I64, sp);
  const o = c.insn.ops[0];
  const extra = o && o.k === 'imm' ? o.raw : 0;
  c.putGpr(RSP, b.binop('Add', sp, c.c(I64, 8 + extra)));
  c.jump(to, 'Ret');
};

const syscall: Sem = (c) => c.jump(c.c(I64, c.nextAddr), 'Syscall');
const int3: Sem = (c) => c.jump(c.c(I64, c.nextAddr), 'SigTRAP');
const ud2: Sem = (c) => c.jump(c.c(I64, c.insn.addr), 'SigILL');
const nop: Sem = () => undefined;

// ------------------------------------------------------------------------- environment

/** cpuid: the engine answers (leaf eax, subleaf ecx) through the dirty helper. */
const cpuid: Sem = (c) => {
  const b = c.b;
  const r = b.dirty('cpuid', [c.getGpr(RAX, 4), c.getGpr(RCX, 4)], Ty.I128)!;
  const word = (i: number): Atom => b.conv('Narrow', Ty.I32, b.binop('Shr', r, c.c(Ty.I8, 32 * i)));
  c.putGpr(RAX, word(0));
  c.putGpr(RBX, word(1));
  c.putGpr(RCX, word(2));
  c.putGpr(RDX, word(3));
};

const rdtsc: Sem = (c) => {
  const b = c.b;
  const t = b.dirty('rdtsc', [], I64)!;
  c.putGpr(RAX, b.conv('Narrow', Ty.I32, t));
  c.putGpr(RDX, b.conv('NarrowHi', Ty.I32, t));
};

/** fnstcw: the x87 control word lives in Unicorn (x87 instructions run there), the engine reads it. */
const fnstcw: Sem = (c) => {
  c.write(0, c.b.dirty('fpcw', [], Ty.I16)!);
};

export const INT_SEMANTICS: Record<string, Sem> = {
  add: alu('add'), or: alu('or'), adc: alu('adc'), sbb: alu('sbb'), and: alu('and'), sub: alu('sub'),
  xor: alu('xor'), cmp: alu('cmp'), test: alu('test'),
  mov, movzx, movsx, movsxd, lea, xchg, cwde, cdq, bswap, cmovcc, setcc,
  push: pushOp, pop: popOp, leave, pushf, popf, sahf, lahf,
  clc: carryOp((c, f) => c.b.binop('And', f, c.c(I64, ~F.C))),
  stc: carryOp((c, f) => c.b.binop('Or', f, c.c(I64, F.C))),
  cmc: carryOp((c, f) => c.b.binop('Xor', f, c.c(I64, F.C))),
  cld: setDir(false), std: setDir(true),
  not, neg, inc: incdec('INC'), dec: incdec('DEC'),
  mul: mul1(false), imul1: mul1(true), imul2: imulN(0), imul3: imulN(1), div: div(false), idiv: div(true),
  shl: shift('shl'), shr: shift('shr'), sar: shift('sar'), rol: shift('rol'), ror: shift('ror'),
  shld: doubleShift(true), shrd: doubleShift(false),
  bt: bt('bt'), bts: bt('bts'), btr: bt('btr'), btc: bt('btc'), bsf: bitScan(false), bsr: bitScan(true),
  xadd, cmpxchg,
  jcc, jmp, call, ret, syscall, int3, ud2, nop, cpuid, rdtsc, fnstcw,
};
