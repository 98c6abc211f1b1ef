/**
 * Semantics of the SSE/SSE2 subset: moves, 128-bit integer lane operations, and scalar
 * double/single arithmetic and conversions as gcc emits them for plain C.
 *
 * Register/memory asymmetries follow the SDM: movss/movsd from memory zero the rest of the
 * register, between registers they merge; movd/movq into xmm zero-extend; scalar arithmetic
 * merges into the low lane. Legacy-SSE 128-bit memory operands must be 16-aligned except for
 * the explicitly unaligned moves (SigSEGV otherwise, as the CPU's #GP). Float operations assume
 * MXCSR's default rounding (nearest even).
 */
import { OFF, xmmOff } from '../guest-state';
import { BinopSame, Conv, Shift, Ty } from '../ir';
import type { LiftCtx } from './ctx';
import { readPair, Sem } from './sem-int';

const I128 = Ty.I128;

/** Moves: operand 1 to operand 0 at operand 0's size; memory → xmm zero-extends when `zext`. */
function move(opts: { aligned?: boolean; zextFromMem?: boolean; zextAlways?: boolean } = {}): Sem {
  return (c) => {
    if (opts.aligned) {
      c.checkAligned16(0);
      c.checkAligned16(1);
    }
    const dst = c.op(0);
    const src = c.op(1);
    let v = c.read(1);
    if (dst.k === 'xmm' && (opts.zextAlways || (opts.zextFromMem && src.k === 'mem'))) {
      c.putXmm(dst.reg, c.b.conv('ZExt', I128, v));
      return;
    }
    if (dst.k === 'xmm' || dst.k === 'mem') v = c.b.resize(v, c.opTy(0));
    c.write(0, v);
  };
}

/** movd/movq xmm → r/m: the low 32/64 bits of the xmm register. */
const movdFromXmm: Sem = (c) => {
  const src = c.op(1);
  if (src.k !== 'xmm') throw new Error('movd source');
  c.write(0, c.getXmm(src.reg, c.opTy(0)));
};

/** movq xmm/m64 ← xmm (66 0F D6): a register destination is zero-extended. */
const movqStore: Sem = (c) => {
  const dst = c.op(0);
  const v = c.read(1);
  if (dst.k === 'xmm') c.putXmm(dst.reg, c.b.conv('ZExt', I128, v));
  else c.write(0, v);
};

/** movhps/movhpd load: the high 64 bits of the register from memory. */
const movhpLoad: Sem = (c) => {
  const dst = c.op(0);
  if (dst.k !== 'xmm') throw new Error('movhp');
  c.put(xmmOff(dst.reg) + 8, c.read(1));
};

/** movhps/movhpd store: the high 64 bits of the register to memory. */
const movhpStore: Sem = (c) => {
  const src = c.op(1);
  if (src.k !== 'xmm') throw new Error('movhp');
  c.write(0, c.get(xmmOff(src.reg) + 8, Ty.I64));
};

/** movhlps: low half of dst = high half of src. */
const movhlps: Sem = (c) => {
  const [d, s] = [c.op(0), c.op(1)];
  if (d.k !== 'xmm' || s.k !== 'xmm') throw new Error('movhlps');
  c.put(xmmOff(d.reg), c.get(xmmOff(s.reg) + 8, Ty.I64));
};

/** movlhps: high half of dst = low half of src. */
const movlhps: Sem = (c) => {
  const [d, s] = [c.op(0), c.op(1)];
  if (d.k !== 'xmm' || s.k !== 'xmm') throw new Error('movlhps');
  c.put(xmmOff(d.reg) + 8, c.get(xmmOff(s.reg), Ty.I64));
};

/** A 128-bit lane operation dst = op(dst, src). */
function lanes(op: BinopSame, negateDst = false): Sem {
  return (c) => {
    c.checkAligned16(1);
    const [a, b] = readPair(c);
    c.write(0, c.b.binop(op, negateDst ? c.b.unop('Not', a) : a, b));
  };
}

/** Lane shifts by the low 64 bits of an xmm/m128 count (counts ≥ 256 clamp; all are ≥ the lane width then). */
function shiftByReg(op: Shift): Sem {
  return (c) => {
    c.checkAligned16(1);
    const b = c.b;
    const a = c.read(0);
    const cnt = b.conv('Narrow', Ty.I64, c.read(1));
    const big = b.binop('CmpLTU', c.c(Ty.I64, 255), cnt);
    const n = b.ite(big, c.c(Ty.I8, 255), b.conv('Narrow', Ty.I8, cnt));
    c.write(0, b.binop(op, a, n));
  };
}

/** Lane shifts by an immediate (the 66 0F 71/72/73 groups; the register is operand 0). */
function shiftByImm(op: Shift): Sem {
  return (c) => {
    const o = c.op(1);
    if (o.k !== 'imm') throw new Error('shift count');
    c.write(0, c.b.binop(op, c.read(0), c.c(Ty.I8, o.raw)));
  };
}

/** pshufd/pshuflw/pshufhw: a permutation of the source selected by the immediate. */
function permute(op: 'Perm32x4' | 'PermLo16x4' | 'PermHi16x4'): Sem {
  return (c) => {
    c.checkAligned16(1);
    const o = c.op(2);
    if (o.k !== 'imm') throw new Error('pshufd imm');
    c.write(0, c.b.binop(op, c.read(1), c.c(Ty.I8, o.raw)));
  };
}

const pmovmskb: Sem = (c) => c.write(0, c.b.conv('GetMSBs8x16', Ty.I32, c.read(1)));

/** Scalar arithmetic: the low lane of dst = op(low dst, src); the rest of dst is kept. */
function scalar(op: BinopSame): Sem {
  return (c) => {
    const a = c.read(0);
    const b = c.read(1);
    c.write(0, c.b.binop(op, a, b));
  };
}

function sqrt(ty: Ty): Sem {
  return (c) => c.write(0, c.b.unop(ty === Ty.I64 ? 'SqrtF64' : 'SqrtF32', c.read(1)));
}

/** A conversion of operand 1 into operand 0 (by operand 1's or 0's width when the op depends on it). */
function convert(pick: (c: LiftCtx) => Conv): Sem {
  return (c) => c.write(0, c.b.conv(pick(c), c.opTy(0), c.read(1)));
}

/** ucomiss, ucomisd (and comis*): ZF, PF, CF from the comparison; OF, SF, AF cleared. */
const ucomis: Sem = (c) => {
  const r = c.b.binop('CmpF', c.read(0), c.read(1));
  c.setFlagsCopy(c.b.conv('ZExt', Ty.I64, r));
};

const ldmxcsr: Sem = (c) => c.put(OFF.MXCSR, c.read(0));
const stmxcsr: Sem = (c) => c.write(0, c.get(OFF.MXCSR, Ty.I32));

const is64 = (c: LiftCtx, i: number): boolean => c.opTy(i) === Ty.I64;

export const SSE_SEMANTICS: Record<string, Sem> = {
  movups: move(), movaps: move({ aligned: true }),
  movss: move({ zextFromMem: true }), movsd: move({ zextFromMem: true }),
  movd: move({ zextAlways: true }), movq: move({ zextAlways: true }),
  movlp: move(), movlpst: move(),
  movhp: movhpLoad, movhpst: movhpStore, movhlps, movlhps,
  movdst: movdFromXmm, movqst: movqStore,
  pand: lanes('And'), pandn: lanes('And', true), por: lanes('Or'), pxor: lanes('Xor'),
  paddb: lanes('Add8x16'), paddw: lanes('Add16x8'), paddd: lanes('Add32x4'), paddq: lanes('Add64x2'),
  psubb: lanes('Sub8x16'), psubw: lanes('Sub16x8'), psubd: lanes('Sub32x4'), psubq: lanes('Sub64x2'),
  paddusb: lanes('QAdd8Ux16'), psubusb: lanes('QSub8Ux16'), pminub: lanes('Min8Ux16'), pmaxub: lanes('Max8Ux16'),
  pcmpeqb: lanes('CmpEQ8x16'), pcmpeqw: lanes('CmpEQ16x8'), pcmpeqd: lanes('CmpEQ32x4'),
  pcmpgtb: lanes('CmpGT8Sx16'), pcmpgtw: lanes('CmpGT16Sx8'), pcmpgtd: lanes('CmpGT32Sx4'),
  pmuludq: lanes('MullEven32Ux4'),
  punpcklbw: lanes('InterleaveLO8x16'), punpcklwd: lanes('InterleaveLO16x8'),
  punpckldq: lanes('InterleaveLO32x4'), punpcklqdq: lanes('InterleaveLO64x2'),
  punpckhbw: lanes('InterleaveHI8x16'), punpckhwd: lanes('InterleaveHI16x8'),
  punpckhdq: lanes('InterleaveHI32x4'), punpckhqdq: lanes('InterleaveHI64x2'),
  unpcklps: lanes('InterleaveLO32x4'), unpcklpd: lanes('InterleaveLO64x2'),
  psrlw: shiftByReg('ShrN16x8'), psraw: shiftByReg('SarN16x8'), psllw: shiftByReg('ShlN16x8'),
  psrld: shiftByReg('ShrN32x4'), psrad: shiftByReg('SarN32x4'), pslld: shiftByReg('ShlN32x4'),
  psrlq: shiftByReg('ShrN64x2'), psllq: shiftByReg('ShlN64x2'),
  psrlwi: shiftByImm('ShrN16x8'), psrawi: shiftByImm('SarN16x8'), psllwi: shiftByImm('ShlN16x8'),
  psrldi: shiftByImm('ShrN32x4'), psradi: shiftByImm('SarN32x4'), pslldi: shiftByImm('ShlN32x4'),
  psrlqi: shiftByImm('ShrN64x2'), psllqi: shiftByImm('ShlN64x2'),
  psrldq: shiftByImm('ShrBytes128'), pslldq: shiftByImm('ShlBytes128'),
  pshufd: permute('Perm32x4'), pshuflw: permute('PermLo16x4'), pshufhw: permute('PermHi16x4'),
  pmovmskb,
  addsd: scalar('AddF'), subsd: scalar('SubF'), mulsd: scalar('MulF'), divsd: scalar('DivF'),
  minsd: scalar('MinF'), maxsd: scalar('MaxF'),
  addss: scalar('AddF'), subss: scalar('SubF'), mulss: scalar('MulF'), divss: scalar('DivF'),
  minss: scalar('MinF'), maxss: scalar('MaxF'),
  sqrtsd: sqrt(Ty.I64), sqrtss: sqrt(Ty.I32),
  cvtsi2sd: convert((c) => (is64(c, 1) ? 'I64StoF64' : 'I32StoF64')),
  cvtsi2ss: convert((c) => (is64(c, 1) ? 'I64StoF32' : 'I32StoF32')),
  cvttsd2si: convert((c) => (is64(c, 0) ? 'F64toI64S_Z' : 'F64toI32S_Z')),
  cvtsd2si: convert((c) => (is64(c, 0) ? 'F64toI64S_N' : 'F64toI32S_N')),
  cvttss2si: convert((c) => (is64(c, 0) ? 'F32toI64S_Z' : 'F32toI32S_Z')),
  cvtss2si: convert((c) => (is64(c, 0) ? 'F32toI64S_N' : 'F32toI32S_N')),
  cvtss2sd: convert(() => 'F32toF64'), cvtsd2ss: convert(() => 'F64toF32'),
  ucomisd: ucomis, ucomiss: ucomis,
  ldmxcsr, stmxcsr,
};
