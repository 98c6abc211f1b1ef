/**
 * The handful of shadow combinators memcheck's rules are made of (mc_translate.c's mkUifU,
 * mkDifD, mkPCastTo, mkLeft, mkImproveAND/OR, mkLazyN), as IR emitters over V bits: a 1 bit is
 * undefined. Every shadow value has the type of the value it shadows.
 *
 * Operations on constants fold in the builder, so a rule applied to a defined constant (V bits 0)
 * costs nothing: UifU(v, 0) is v, Left(0) is 0.
 */
import { Atom, IRBuilder, Ty, tyMask } from '../../jit/ir';

export class Shadow {
  /** The operand of each Left smear emitted, by the temporary holding its result. */
  private readonly leftOf = new Map<number, Atom>();

  constructor(readonly b: IRBuilder) {}

  /** Fully defined V bits of a type. */
  defined(ty: Ty): Atom {
    return this.b.c(ty, 0);
  }

  /** Fully undefined V bits of a type. */
  undefined(ty: Ty): Atom {
    return this.b.c(ty, tyMask(ty));
  }

  /** Undefined if either is undefined (pessimistic union): va | vb. */
  uifu(va: Atom, vb: Atom): Atom {
    return this.b.binop('Or', va, vb);
  }

  /** Defined if either is defined: va & vb. */
  difd(va: Atom, vb: Atom): Atom {
    return this.b.binop('And', va, vb);
  }

  /** Pessimistic cast: all bits of `to` undefined if any bit of v is, else all defined. */
  pcast(v: Atom, to: Ty): Atom {
    const b = this.b;
    if (v.tag === 'const') return v.v === 0n ? this.defined(to) : this.undefined(to);
    // Left(x) is non-zero exactly when x is: test x (an address's check then needs no smear).
    if (v.tag === 'tmp') v = this.leftOf.get(v.t) ?? v;
    const any = b.ty(v) === Ty.I1 ? v : b.binop('CmpNE', v, b.c(b.ty(v), 0));
    return to === Ty.I1 ? any : b.conv('SExt', to, any);
  }

  /**
   * Left smear: every bit at or above the lowest undefined bit becomes undefined (v | -v). The
   * carry chain of an add or subtract can carry undefinedness upward, never downward.
   */
  left(v: Atom): Atom {
    const r = this.b.binop('Or', v, this.b.unop('Neg', v));
    if (r.tag === 'tmp') this.leftOf.set(r.t, v);
    return r;
  }

  /** And's improvement term: where the operand is a defined 0, the result is a defined 0. */
  improveAnd(data: Atom, v: Atom): Atom {
    return this.b.binop('Or', data, v);
  }

  /** Or's improvement term: where the operand is a defined 1, the result is a defined 1. */
  improveOr(data: Atom, v: Atom): Atom {
    return this.b.binop('Or', this.b.unop('Not', data), v);
  }

  /**
   * Lazy approximation of an operation memcheck does not model bit by bit: the result is wholly
   * undefined if any bit of any input is undefined (mkLazyN).
   */
  lazy(vs: readonly Atom[], to: Ty): Atom {
    const b = this.b;
    let any: Atom = b.c(Ty.I1, 0);
    for (const v of vs) any = b.binop('Or', any, this.pcast(v, Ty.I1));
    return this.pcast(any, to);
  }

  /** Per-lane pessimistic cast of a 128-bit value: a lane is all undefined if any of its bits is. */
  pcastLanes(v: Atom, laneBits: 8 | 16 | 32 | 64): Atom {
    const b = this.b;
    if (v.tag === 'const' && v.v === 0n) return v;
    const op = laneBits === 8 ? 'CmpEQ8x16' : laneBits === 16 ? 'CmpEQ16x8' : laneBits === 32 ? 'CmpEQ32x4' : 'CmpEQ64x2';
    return b.unop('Not', b.binop(op, v, b.c(Ty.I128, 0)));
  }
}
