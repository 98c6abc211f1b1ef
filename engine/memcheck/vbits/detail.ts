/**
 * Which operations of a block get memcheck's exact (expensive) shadow rule instead of the cheap
 * one: `--expensive-definedness-checks=no|auto|yes`, with memcheck 3.19's choices on amd64.
 *
 * - no: every Add, Sub and CmpEQ/CmpNE cheap.
 * - yes: all of them exact.
 * - auto (the default): CmpEQ/CmpNE of 16, 32 and 64 bits exact (gcc and clang compare strings
 *   a word at a time, and the bytes past the terminator are undefined: the defined bytes that
 *   differ decide the answer); Add of 32 and 64 bits exact unless its result is only ever used
 *   as an address, where the address check gives the same verdict either way; the rest cheap.
 *   A block holding one of the "bogus" literals of word-at-a-time string code (0x80808080,
 *   0xFEFEFEFF, …) or a pmovmskb gets everything exact, as `yes`.
 *
 * The auto rules were measured against Valgrind 3.19 (one inline-asm case per operation and
 * width) and follow mc_translate.c's preInstrumentationAnalysis: a backward pass that marks a
 * temporary "address only" when its uses are load/store addresses, guards, the block's target,
 * or operands of adds whose results are themselves address only.
 */
import { Atom, Expr, IRSB, Ty } from '../../jit/ir';

/** --expensive-definedness-checks. */
export type DefinednessDetail = 'no' | 'auto' | 'yes';

/** The exact rules a block gets. */
export interface BlockDetail {
  /** The Add assigned to temporary t (of type ty) needs the exact rule. */
  exactAdd(t: number, ty: Ty): boolean;
  /** Every Sub of this type needs the exact rule. */
  exactSub(ty: Ty): boolean;
  /** Every CmpEQ/CmpNE of operands of this type needs the exact rule. */
  exactCmpEq(ty: Ty): boolean;
}

// memcheck has two rules for adds and subtracts of 32 and 64 bits only.
const wide = (ty: Ty): boolean => ty === Ty.I32 || ty === Ty.I64;
const NONE: BlockDetail = { exactAdd: () => false, exactSub: () => false, exactCmpEq: () => false };
const ALL: BlockDetail = { exactAdd: (_t, ty) => wide(ty), exactSub: wide, exactCmpEq: () => true };

/** The literals that mark word-at-a-time string code (memcheck's isBogusAtom). */
const BOGUS = new Set<bigint>([
  0xfefefeffn, 0x80808080n, 0x7f7f7f7fn, 0x7efefeffn, 0x81010100n,
  0xfffffffffefefeffn, 0xfefefefefefefeffn, 0x8080n, 0x8080808080808080n, 0x0101010101010101n,
]);

const isBogus = (a: Atom | undefined): boolean => a !== undefined && a.tag === 'const' && BOGUS.has(a.v);

function exprIsBogus(e: Expr): boolean {
  switch (e.tag) {
    case 'tmp': case 'const': return isBogus(e);
    case 'get': return false;
    case 'load': return isBogus(e.addr);
    case 'unop': return isBogus(e.a);
    case 'conv': return e.op === 'GetMSBs8x16' || isBogus(e.a);
    case 'binop': return isBogus(e.a) || isBogus(e.b);
    case 'ite': return isBogus(e.cond) || isBogus(e.t) || isBogus(e.f);
    case 'ccall': return e.args.some(isBogus);
  }
}

/** True when the block holds a literal or operation that calls for exact rules throughout. */
export function hasBogusLiterals(sb: IRSB): boolean {
  if (isBogus(sb.next)) return true;
  return sb.stmts.some((s) => {
    switch (s.tag) {
      case 'wrtmp': return exprIsBogus(s.e);
      case 'put': return isBogus(s.a);
      case 'store': return isBogus(s.addr) || isBogus(s.data);
      case 'exit': return isBogus(s.guard);
      case 'dirty': return s.args.some(isBogus) || isBogus(s.guard);
      case 'imark': return false;
    }
  });
}

// How a temporary is used, in increasing order: not at all (0), only where its definedness is
// checked as a whole (addresses, guards, jump targets), in some other way.
const CHECKED = 1;
const OTHER = 2;

/** How each temporary of the block is used (the backward pass). */
function usesOf(sb: IRSB): Uint8Array {
  const use = new Uint8Array(sb.tyenv.length);
  const note = (a: Atom | undefined, how: number): void => {
    if (a !== undefined && a.tag === 'tmp' && how > use[a.t]) use[a.t] = how;
  };
  note(sb.next, CHECKED);
  for (let i = sb.stmts.length - 1; i >= 0; i--) {
    const s = sb.stmts[i];
    switch (s.tag) {
      case 'wrtmp': {
        const e = s.e;
        const mine = use[s.t];
        switch (e.tag) {
          case 'tmp': note(e, mine); break;
          case 'const': case 'get': break;
          case 'load': note(e.addr, CHECKED); break;
          case 'ite': note(e.cond, CHECKED); note(e.t, OTHER); note(e.f, OTHER); break;
          case 'binop':
            // An add passes its result's use on to its operands (an address's parts).
            if (e.op === 'Add' && wide(e.ty)) {
              note(e.a, mine);
              note(e.b, mine);
            } else {
              note(e.a, OTHER);
              note(e.b, OTHER);
            }
            break;
          case 'unop': case 'conv': note(e.a, OTHER); break;
          case 'ccall': for (const a of e.args) note(a, OTHER); break;
        }
        break;
      }
      case 'store': note(s.addr, CHECKED); note(s.data, OTHER); break;
      case 'exit': note(s.guard, CHECKED); break;
      case 'put': note(s.a, OTHER); break;
      case 'dirty': note(s.guard, CHECKED); for (const a of s.args) note(a, OTHER); break;
      case 'imark': break;
    }
  }
  return use;
}

/** The exact rules for a block at a detail level. */
export function blockDetail(sb: IRSB, level: DefinednessDetail): BlockDetail {
  if (level === 'no') return NONE;
  if (level === 'yes' || hasBogusLiterals(sb)) return ALL;
  const use = usesOf(sb);
  return {
    exactAdd: (t, ty) => wide(ty) && use[t] === OTHER,
    exactSub: () => false,
    exactCmpEq: (ty) => ty === Ty.I16 || ty === Ty.I32 || ty === Ty.I64 || ty === Ty.I128,
  };
}
