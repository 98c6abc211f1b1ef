/**
 * Conditions specialised on a flags thunk whose operation is known at lift time — the IR
 * counterpart of VEX's guest_amd64_spechelper. `cmp a,b; jl` becomes CmpLTS(a,b) instead of a
 * call computing all flags, which is both fast and exact for definedness: memcheck then sees a
 * comparison of the two operands, not a helper over everything the thunk holds.
 *
 * Table: by thunk kind, the conditions (even codes; odd ones are their negations) that have a
 * direct form. Anything absent falls back to the generic helper.
 */
import { CC, CcKind, F } from '../flags';
import { Atom, IRBuilder, Ty } from '../ir';
import type { Thunk } from './ctx';

type Known = NonNullable<Thunk['known']>;
type Rule = (b: IRBuilder, k: Known) => Atom;

const zero = (b: IRBuilder, ty: Ty): Atom => b.c(ty, 0);
/** The result of the operation the thunk records. */
const resultOf = (b: IRBuilder, k: Known): Atom =>
  k.kind === 'ADD' ? b.binop('Add', k.a, k.b) : k.kind === 'SUB' ? b.binop('Sub', k.a, k.b) : k.a;
const isZero: Rule = (b, k) => b.binop('CmpEQ', resultOf(b, k), zero(b, k.ty));
const isNeg: Rule = (b, k) => b.binop('CmpLTS', resultOf(b, k), zero(b, k.ty));
const never: Rule = (b) => b.c(Ty.I1, 0);

const RULES: Partial<Record<CcKind, Partial<Record<number, Rule>>>> = {
  SUB: {
    [CC.B]: (b, k) => b.binop('CmpLTU', k.a, k.b),
    [CC.Z]: (b, k) => b.binop('CmpEQ', k.a, k.b),
    [CC.BE]: (b, k) => b.binop('CmpLEU', k.a, k.b),
    [CC.S]: isNeg,
    [CC.L]: (b, k) => b.binop('CmpLTS', k.a, k.b),
    [CC.LE]: (b, k) => b.binop('CmpLES', k.a, k.b),
  },
  // and/or/xor/test: OF = CF = 0, so L is S and LE is S or Z.
  LOGIC: {
    [CC.O]: never,
    [CC.B]: never,
    [CC.Z]: isZero,
    [CC.BE]: isZero,
    [CC.S]: isNeg,
    [CC.L]: isNeg,
    [CC.LE]: (b, k) => b.binop('CmpLES', k.a, zero(b, k.ty)),
  },
  ADD: {
    [CC.B]: (b, k) => b.binop('CmpLTU', b.binop('Add', k.a, k.b), k.a),
    [CC.Z]: isZero,
    [CC.S]: isNeg,
  },
  INC: { [CC.Z]: isZero, [CC.S]: isNeg },
  DEC: { [CC.Z]: isZero, [CC.S]: isNeg },
  SHL: { [CC.Z]: isZero, [CC.S]: isNeg },
  SHR: { [CC.Z]: isZero, [CC.S]: isNeg },
};

/**
 * Conditions on a COPY thunk (bt, ucomisd, popf): the flag bits they test, taken from the flags
 * one by one, so that each bit keeps its own definedness. VEX specialises these four pairs.
 */
const COPY_BITS: Partial<Record<number, readonly bigint[]>> = {
  [CC.B]: [F.C], [CC.Z]: [F.Z], [CC.BE]: [F.C, F.Z], [CC.P]: [F.P],
};

/** The condition cc as a direct comparison when the thunk allows, else undefined. */
export function specialCond(b: IRBuilder, cc: number, t: Thunk): Atom | undefined {
  const bits = t.copy && COPY_BITS[cc & ~1];
  if (t.copy && bits) {
    const flags = t.copy;
    const bit = (f: bigint): Atom => b.binop('Shr', flags, b.c(Ty.I8, f.toString(2).length - 1));
    const any = bits.map(bit).reduce((x, y) => b.binop('Or', x, y));
    const r = b.conv('Narrow', Ty.I1, b.binop('And', any, b.c(Ty.I64, 1)));
    return cc & 1 ? b.unop('Not', r) : r;
  }
  const k = t.known;
  if (!k) return undefined;
  const rule = RULES[k.kind]?.[cc & ~1];
  if (!rule) return undefined;
  const r = rule(b, k);
  return cc & 1 ? b.unop('Not', r) : r;
}
