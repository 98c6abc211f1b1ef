/**
 * The shadow rule of every IR operation, chosen in one place (mc_translate.c's expr2vbits_*):
 * each operation maps to one named rule, and the rules are written once, from the combinators.
 * The tables are typed as complete records, so a new IR operation does not compile until it has
 * a rule here.
 *
 * Rules (va, vb: the operands' V bits; a, b: their values):
 *   union       UifU(va, vb)                         xor; exact for bit-parallel operations
 *   left        Left(UifU(va, vb))                   add, sub, mul: carries move upward only; adds
 *                                                   and subtracts of 32 and 64 bits may get the
 *                                                   exact rule instead (detail.ts)
 *   improveAnd  UifU & improveAnd(a,va) & improveAnd(b,vb)   a defined 0 makes a defined 0
 *   improveOr   UifU & improveOr(a,va) & improveOr(b,vb)     a defined 1 makes a defined 1
 *   byAmount    op(va, b) | PCast(vb)                shifts, permutations: exact for a defined
 *                                                   amount, all undefined for an undefined one
 *   same        op(va, vb)                           data movement (interleave, concatenation)
 *   cmp         PCast(UifU(va, vb)) to I1            ordered comparisons
 *   cmpEq       cmp, or exactly (detail.ts): defined as soon as one bit defined in both
 *               operands differs
 *   lanesN      per-N-bit-lane PCast(UifU(va, vb))   SIMD lane arithmetic and comparisons
 *   lazy        all undefined if anything is         division, floating point, helpers
 * Unary: copy (the operand's V bits: not), same (op applied to the V bits: bswap, widening,
 * narrowing), left (neg), lazy.
 * And the idioms with the same operand twice, defined whatever x is: x ^ x and x - x (zero),
 * pcmpeq x,x (all ones).
 */
import type { Binop, Conv, UnopSame } from '../../jit/ir';

export type BinRule = 'union' | 'left' | 'improveAnd' | 'improveOr' | 'byAmount' | 'same' | 'cmp' | 'cmpEq'
  | 'lanes8' | 'lanes16' | 'lanes32' | 'lanes64' | 'lazy';
export type UnRule = 'copy' | 'same' | 'left' | 'lazy';

export const BINOP_RULES: Readonly<Record<Binop, BinRule>> = {
  Add: 'left', Sub: 'left', Mul: 'left',
  MulHiU: 'lazy', MulHiS: 'lazy', DivModU: 'lazy', DivModS: 'lazy',
  And: 'improveAnd', Or: 'improveOr', Xor: 'union',
  Shl: 'byAmount', Shr: 'byAmount', Sar: 'byAmount',
  ShlN16x8: 'byAmount', ShlN32x4: 'byAmount', ShlN64x2: 'byAmount', ShrN16x8: 'byAmount', ShrN32x4: 'byAmount',
  ShrN64x2: 'byAmount', SarN16x8: 'byAmount', SarN32x4: 'byAmount', ShlBytes128: 'byAmount', ShrBytes128: 'byAmount',
  Perm32x4: 'byAmount', PermLo16x4: 'byAmount', PermHi16x4: 'byAmount',
  CmpEQ: 'cmpEq', CmpNE: 'cmpEq', CmpLTU: 'cmp', CmpLTS: 'cmp', CmpLEU: 'cmp', CmpLES: 'cmp',
  HL: 'same',
  InterleaveLO8x16: 'same', InterleaveLO16x8: 'same', InterleaveLO32x4: 'same', InterleaveLO64x2: 'same',
  InterleaveHI8x16: 'same', InterleaveHI16x8: 'same', InterleaveHI32x4: 'same', InterleaveHI64x2: 'same',
  Add8x16: 'lanes8', Sub8x16: 'lanes8', QAdd8Ux16: 'lanes8', QSub8Ux16: 'lanes8', Min8Ux16: 'lanes8', Max8Ux16: 'lanes8',
  CmpEQ8x16: 'lanes8', CmpGT8Sx16: 'lanes8',
  Add16x8: 'lanes16', Sub16x8: 'lanes16', CmpEQ16x8: 'lanes16', CmpGT16Sx8: 'lanes16',
  Add32x4: 'lanes32', Sub32x4: 'lanes32', CmpEQ32x4: 'lanes32', CmpGT32Sx4: 'lanes32', Mul32x4: 'lanes32',
  Add64x2: 'lanes64', Sub64x2: 'lanes64', CmpEQ64x2: 'lanes64', MullEven32Ux4: 'lanes64',
  AddF: 'lazy', SubF: 'lazy', MulF: 'lazy', DivF: 'lazy', MinF: 'lazy', MaxF: 'lazy', CmpF: 'lazy',
};

export const UNOP_RULES: Readonly<Record<UnopSame, UnRule>> = {
  Not: 'copy', Bswap: 'same', Neg: 'left', Clz: 'lazy', Ctz: 'lazy', Popcnt: 'lazy', SqrtF64: 'lazy', SqrtF32: 'lazy',
};

/** Conversions: width changes move V bits exactly (SExt smears the sign's V bit); float conversions are lazy. */
export const CONV_RULES: Readonly<Record<Conv, UnRule>> = {
  ZExt: 'same', SExt: 'same', Narrow: 'same', NarrowHi: 'same', GetMSBs8x16: 'same',
  I32StoF64: 'lazy', I64StoF64: 'lazy', I32StoF32: 'lazy', I64StoF32: 'lazy', F32toF64: 'lazy', F64toF32: 'lazy',
  F64toI32S_Z: 'lazy', F64toI64S_Z: 'lazy', F64toI32S_N: 'lazy', F64toI64S_N: 'lazy',
  F32toI32S_Z: 'lazy', F32toI64S_Z: 'lazy', F32toI32S_N: 'lazy', F32toI64S_N: 'lazy',
};
