/**
 * Constant folding for the builder: an operation whose operands are all constants becomes a
 * constant, evaluated by the same functions the interpreter uses (ops.ts), plus the algebraic
 * identities that the lifter's generic code produces often (x+0, x&~0, x|0, x^0, shifts by 0).
 */
import { pureHelper } from './helpers';
import { Atom, Const, Expr, mkConst, Ty, tyMask } from './ir';
import { evalBinop, evalConv, evalUnop } from './ops';

const allConst = (atoms: readonly Atom[]): atoms is Const[] => atoms.every((a) => a.tag === 'const');

/** The constant an expression folds to, if it does. */
export function foldExpr(e: Expr, _tyenv: readonly Ty[]): Const | undefined {
  switch (e.tag) {
    case 'unop':
      return e.a.tag === 'const' ? mkConst(e.ty, evalUnop(e.op, e.ty, e.a.v)) : undefined;
    case 'conv':
      return e.a.tag === 'const' ? mkConst(e.to, evalConv(e.op, e.from, e.to, e.a.v)) : undefined;
    case 'binop': {
      if (e.a.tag === 'const' && e.b.tag === 'const') {
        // A division by a constant zero is left for run time (the lifter guards it with an exit).
        if ((e.op === 'DivModU' || e.op === 'DivModS') && e.b.v === 0n) return undefined;
        const r = evalBinop(e.op, e.ty, e.a.v, e.b.v);
        return mkConst(e.op.startsWith('Cmp') && e.op !== 'CmpF' ? Ty.I1 : resultTy(e.op, e.ty), r);
      }
      return undefined;
    }
    case 'ite':
      return e.cond.tag === 'const' && e.t.tag === 'const' && e.f.tag === 'const'
        ? (e.cond.v !== 0n ? e.t : e.f) : undefined;
    case 'ccall':
      return allConst(e.args) ? mkConst(e.ty, pureHelper(e.fn).fn(...e.args.map((a) => a.v))) : undefined;
    default:
      return undefined;
  }
}

function resultTy(op: string, ty: Ty): Ty {
  if (op === 'CmpF') return Ty.I32;
  if (op === 'DivModU' || op === 'DivModS' || op === 'HL') return (ty * 2) as Ty;
  return ty;
}

/** What the builder uses: a folded constant or a simplified operand, if any. */
export function foldOrSimplify(e: Expr, tyenv: readonly Ty[]): Atom | undefined {
  return foldExpr(e, tyenv) ?? simplify(e);
}

const sameAtom = (a: Atom, b: Atom): boolean =>
  a.tag === 'tmp' ? b.tag === 'tmp' && a.t === b.t : b.tag === 'const' && a.v === b.v;

/**
 * Identities that make an operation one of its operands or a constant: x+0, x-0, x|0, x^0,
 * x&~0, x&0, shifts by 0, and the zeroing idioms x^x and x-x (xor eax,eax; sub eax,eax), which
 * VEX's front end also turns into a constant so that the result does not depend on x at all.
 */
export function simplify(e: Expr): Atom | undefined {
  if (e.tag !== 'binop') return undefined;
  const { op, a, b, ty } = e;
  const bz = b.tag === 'const' && b.v === 0n;
  const az = a.tag === 'const' && a.v === 0n;
  switch (op) {
    case 'Add': case 'Or':
      return bz ? a : az ? b : undefined;
    case 'Xor':
      return bz ? a : az ? b : sameAtom(a, b) ? mkConst(ty, 0) : undefined;
    case 'Sub':
      return bz ? a : sameAtom(a, b) ? mkConst(ty, 0) : undefined;
    case 'Shl': case 'Shr': case 'Sar':
      return bz ? a : undefined;
    case 'And':
      if (az || bz) return mkConst(ty, 0);
      if (b.tag === 'const' && b.v === tyMask(ty)) return a;
      if (a.tag === 'const' && a.v === tyMask(ty)) return b;
      return undefined;
    default:
      return undefined;
  }
}
