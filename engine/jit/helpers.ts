/**
 * Pure helpers callable from IR (CCall): functions of their arguments only, so the interpreter
 * and generated code call them directly and an optimiser may fold or drop them.
 *
 * `mcxMask` (VEX's name) lists the arguments that cannot carry undefinedness because the lifter
 * always makes them from constants (a condition number, a CC_OP); a definedness tool leaves them
 * out of its pessimistic rule for the call.
 */
import { calcCarry, calcCond, calcRflags } from './flags';
import { Ty } from './ir';

export interface PureHelper {
  readonly fn: (...args: bigint[]) => bigint;
  readonly ret: Ty;
  readonly args: readonly Ty[];
  readonly mcxMask: readonly number[];
}

export const PURE_HELPERS: Readonly<Record<string, PureHelper>> = {
  /** OSZAPC of a thunk (op, dep1, dep2, ndep), in RFLAGS positions. */
  amd64_rflags: { fn: calcRflags, ret: Ty.I64, args: [Ty.I64, Ty.I64, Ty.I64, Ty.I64], mcxMask: [0] },
  /** Condition cc of a thunk: (cc, op, dep1, dep2, ndep) → I1. */
  amd64_cond: {
    fn: (cc, op, d1, d2, nd) => calcCond(cc, op, d1, d2, nd),
    ret: Ty.I1, args: [Ty.I64, Ty.I64, Ty.I64, Ty.I64, Ty.I64], mcxMask: [0, 1],
  },
  /** CF of a thunk: (op, dep1, dep2, ndep) → I64 0/1. */
  amd64_carry: { fn: calcCarry, ret: Ty.I64, args: [Ty.I64, Ty.I64, Ty.I64, Ty.I64], mcxMask: [0] },
  /**
   * Whether idiv of width w (bits) can run: (w, dividend sign-extended to I128, divisor
   * sign-extended to I64) → I1, false for a zero divisor or a quotient out of range (#DE).
   */
  amd64_idiv_ok: {
    fn: (w, dividend, divisor) => {
      const d = BigInt.asIntN(64, divisor);
      if (d === 0n) return 0n;
      const q = BigInt.asIntN(128, dividend) / d;
      const lim = 1n << (w - 1n);
      return q >= -lim && q < lim ? 1n : 0n;
    },
    ret: Ty.I1, args: [Ty.I64, Ty.I128, Ty.I64], mcxMask: [0],
  },
};

/**
 * Helpers with effects or that need the engine, called through Dirty statements: their
 * signatures, for checking IR. The engine (or a test) supplies their implementations to the
 * interpreter and the generated code; tools add their own (memcheck's checks and shadow memory).
 */
export const DIRTY_SIGNATURES: Readonly<Record<string, { readonly args: readonly Ty[]; readonly ret?: Ty }>> = {
  /** (leaf eax, subleaf ecx) → eax | ebx << 32 | ecx << 64 | edx << 96. */
  cpuid: { args: [Ty.I32, Ty.I32], ret: Ty.I128 },
  /** () → the time-stamp counter. */
  rdtsc: { args: [], ret: Ty.I64 },
  /** () → the x87 control word (x87 state lives in Unicorn). */
  fpcw: { args: [], ret: Ty.I16 },
};

/** Looks a pure helper up; throws on an unknown name (a lifter bug). */
export function pureHelper(name: string): PureHelper {
  const h = PURE_HELPERS[name];
  if (!h) throw new Error(`unknown IR helper ${name}`);
  return h;
}
