/**
 * IR as text, in VEX's style, for debugging and test failure messages:
 *   ------ IMark(0x401000, 3) ------
 *   t3:I64 = GET:I64(rax)
 *   t4:I64 = Add:I64(t3, 0x1:I64)
 *   PUT(rax) = t4
 */
import { offName } from './guest-state';
import { Atom, Expr, IRSB, Stmt, Ty } from './ir';

const hex = (v: bigint | number): string => `0x${v.toString(16)}`;

export function ppAtom(a: Atom): string {
  return a.tag === 'tmp' ? `t${a.t}` : `${hex(a.v)}:I${a.ty}`;
}

export function ppExpr(e: Expr): string {
  switch (e.tag) {
    case 'tmp': case 'const': return ppAtom(e);
    case 'get': return `GET:I${e.ty}(${offName(e.off)})`;
    case 'load': return `LD:I${e.ty}(${ppAtom(e.addr)})`;
    case 'unop': return `${e.op}:I${e.ty}(${ppAtom(e.a)})`;
    case 'conv': return `${e.op}:I${e.from}->I${e.to}(${ppAtom(e.a)})`;
    case 'binop': return `${e.op}:I${e.ty}(${ppAtom(e.a)}, ${ppAtom(e.b)})`;
    case 'ite': return `ITE(${ppAtom(e.cond)}, ${ppAtom(e.t)}, ${ppAtom(e.f)})`;
    case 'ccall': return `${e.fn}(${e.args.map(ppAtom).join(', ')}):I${e.ty}`;
  }
}

export function ppStmt(s: Stmt, tyenv: readonly Ty[]): string {
  switch (s.tag) {
    case 'imark': return `------ IMark(${hex(s.addr)}, ${s.len}) ------`;
    case 'wrtmp': return `t${s.t}:I${tyenv[s.t]} = ${ppExpr(s.e)}`;
    case 'put': return `PUT(${offName(s.off)}) = ${ppAtom(s.a)}`;
    case 'store': return `ST(${ppAtom(s.addr)}) = ${ppAtom(s.data)}`;
    case 'exit': return `if (${ppAtom(s.guard)}) goto {${s.jk}} ${hex(s.dst)}`;
    case 'dirty': {
      const call = `DIRTY ${s.fn}(${s.args.map(ppAtom).join(', ')})`;
      const guarded = s.guard ? `if (${ppAtom(s.guard)}) ` : '';
      return s.t === undefined ? guarded + call : `t${s.t}:I${s.ty} = ${guarded}${call}`;
    }
  }
}

export function ppIRSB(sb: IRSB): string {
  const lines = sb.stmts.map((s) => (s.tag === 'imark' ? '' : '   ') + ppStmt(s, sb.tyenv));
  lines.push(`   goto {${sb.jk}} ${ppAtom(sb.next)}`);
  return `IRSB 0x${sb.addr.toString(16)} (${sb.insns} insns) {\n${lines.join('\n')}\n}`;
}
