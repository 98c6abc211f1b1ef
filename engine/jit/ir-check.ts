/**
 * A sanity checker for IR blocks (VEX's sanityCheckIRSB): every temporary assigned once before
 * use, every operation applied to operands of the types its signature demands, guards of type
 * I1, addresses of type I64. Lifter and instrumentation bugs show up here as a message naming
 * the statement, instead of as wrong results later.
 */
import { DIRTY_SIGNATURES, PURE_HELPERS } from './helpers';
import { Atom, atomTy, Binop, Expr, IRSB, Stmt, Ty } from './ir';
import { ppStmt } from './ir-print';

const LANE_OPS_128 = /x(16|8|4|2)$|^Interleave|^Perm|Bytes128$|^Mull/;
const FLOAT_OPS = new Set<Binop>(['AddF', 'SubF', 'MulF', 'DivF', 'MinF', 'MaxF', 'CmpF']);

/** Problems in a block (empty when it is well formed). */
export function checkIRSB(sb: IRSB, extraDirty: Readonly<Record<string, { args: readonly Ty[]; ret?: Ty }>> = {}): string[] {
  const errs: string[] = [];
  const defined = new Set<number>();
  const ty = (a: Atom): Ty => atomTy(sb.tyenv, a);
  const use = (a: Atom, where: string): void => {
    if (a.tag === 'tmp' && !defined.has(a.t)) errs.push(`${where}: t${a.t} used before assignment`);
    if (a.tag === 'const' && (a.v < 0n || a.v >> BigInt(a.ty) !== 0n)) errs.push(`${where}: constant out of range for I${a.ty}`);
  };
  const want = (a: Atom, t: Ty, where: string, what: string): void => {
    if (ty(a) !== t) errs.push(`${where}: ${what} is I${ty(a)}, expected I${t}`);
  };

  const checkExpr = (e: Expr, where: string): void => {
    switch (e.tag) {
      case 'tmp': case 'const': use(e, where); return;
      case 'get': return;
      case 'load': use(e.addr, where); want(e.addr, Ty.I64, where, 'load address'); return;
      case 'unop': use(e.a, where); want(e.a, e.ty, where, 'operand'); return;
      case 'conv': use(e.a, where); want(e.a, e.from, where, 'operand'); return;
      case 'ite':
        use(e.cond, where); use(e.t, where); use(e.f, where);
        want(e.cond, Ty.I1, where, 'condition');
        if (ty(e.t) !== ty(e.f)) errs.push(`${where}: ITE arms of different types`);
        return;
      case 'ccall': {
        const h = PURE_HELPERS[e.fn];
        if (!h) { errs.push(`${where}: unknown helper ${e.fn}`); return; }
        if (h.ret !== e.ty) errs.push(`${where}: helper ${e.fn} returns I${h.ret}`);
        if (h.args.length !== e.args.length) errs.push(`${where}: helper ${e.fn} takes ${h.args.length} arguments`);
        e.args.forEach((a, i) => { use(a, where); if (h.args[i] !== undefined) want(a, h.args[i], where, `argument ${i}`); });
        return;
      }
      case 'binop': {
        use(e.a, where); use(e.b, where);
        const { op } = e;
        if (op === 'DivModU' || op === 'DivModS') {
          want(e.a, (e.ty * 2) as Ty, where, 'dividend');
          want(e.b, e.ty, where, 'divisor');
        } else if (op === 'Shl' || op === 'Shr' || op === 'Sar' || op.startsWith('ShlN') || op.startsWith('ShrN')
          || op.startsWith('SarN') || op.endsWith('Bytes128') || op.startsWith('Perm')) {
          want(e.a, e.ty, where, 'shifted value');
          want(e.b, Ty.I8, where, 'shift amount');
        } else {
          want(e.a, e.ty, where, 'left operand');
          want(e.b, e.ty, where, 'right operand');
        }
        if (LANE_OPS_128.test(op) && e.ty !== Ty.I128) errs.push(`${where}: ${op} on I${e.ty}`);
        if (FLOAT_OPS.has(op) && e.ty !== Ty.I64 && e.ty !== Ty.I32) errs.push(`${where}: ${op} on I${e.ty}`);
        return;
      }
    }
  };

  sb.stmts.forEach((s: Stmt, i) => {
    const where = `stmt ${i} (${ppStmt(s, sb.tyenv)})`;
    switch (s.tag) {
      case 'imark': return;
      case 'wrtmp':
        if (defined.has(s.t)) errs.push(`${where}: t${s.t} assigned twice`);
        checkExpr(s.e, where);
        defined.add(s.t);
        return;
      case 'put': use(s.a, where); return;
      case 'store': use(s.addr, where); use(s.data, where); want(s.addr, Ty.I64, where, 'store address'); return;
      case 'exit': use(s.guard, where); want(s.guard, Ty.I1, where, 'guard'); return;
      case 'dirty': {
        const sig = DIRTY_SIGNATURES[s.fn] ?? extraDirty[s.fn];
        if (!sig) errs.push(`${where}: unknown dirty helper ${s.fn}`);
        s.args.forEach((a, k) => { use(a, where); if (sig?.args[k] !== undefined) want(a, sig.args[k], where, `argument ${k}`); });
        if (s.guard) { use(s.guard, where); want(s.guard, Ty.I1, where, 'guard'); }
        if (s.t !== undefined) {
          if (defined.has(s.t)) errs.push(`${where}: t${s.t} assigned twice`);
          if (sig && sig.ret !== undefined && sig.ret !== sb.tyenv[s.t]) errs.push(`${where}: result type`);
          defined.add(s.t);
        }
        return;
      }
    }
  });
  use(sb.next, 'next');
  if (ty(sb.next) !== Ty.I64) errs.push('next is not I64');
  return errs;
}
