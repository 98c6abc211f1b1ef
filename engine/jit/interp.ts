/**
 * The IR interpreter: runs one superblock over the guest state buffer and a memory interface.
 * It is the reference semantics the code generator is tested against and the slow tier of the
 * engine; every operation is evaluated by ops.ts, so there is one definition of each.
 *
 * On leaving, RIP in the guest state holds the next guest address. A memory fault propagates as
 * GuestMemoryFault with the faulting instruction's address; the lifter orders each instruction's
 * register writes after its memory accesses, so the state is then that before the instruction.
 */
import { fromNum, fromU32, low32, toNum } from './bigint-bits';
import type { FusedAccess } from './fused-access';
import { GuestState, OFF } from './guest-state';
import { pureHelper } from './helpers';
import { Atom, Expr, IRSB, JumpKind, Ty, tyBytes } from './ir';
import { GuestMemoryAccess, GuestMemoryFault } from './memory';
import { evalBinop, evalConv, evalUnop } from './ops';

/**
 * A helper with effects (cpuid, rdtsc, a tool's checks): gets the running instruction's address
 * and its arguments, positionally (no array per call in generated code), and returns its result
 * if it has one.
 */
export type DirtyFn = (insnAddr: number, ...args: bigint[]) => bigint | undefined;

export interface InterpEnv {
  readonly mem: GuestMemoryAccess;
  readonly dirty: Readonly<Record<string, DirtyFn>>;
  /** The tool's fused shadow accesses, for code compiled with CompileOptions.fuse. */
  readonly fused?: FusedAccess;
}

/** How the block was left. */
export interface BlockExit {
  /** Guest address to continue at (also written to RIP). */
  readonly next: number;
  readonly jk: JumpKind;
  /** Address of the last instruction started (the one that exited, for side exits and traps). */
  readonly insnAddr: number;
  /** Guest instructions the block completed when it left here (side exits; undefined: all of them). */
  readonly insns?: number;
}

/**
 * Instructions a block completed when a side exit of kind jk leaves it in its n-th instruction:
 * a trap leaves before that instruction completes, a branch after it.
 */
export function sideExitInsns(jk: JumpKind, n: number): number {
  return jk.startsWith('Sig') || jk === 'SlowPath' ? n - 1 : n;
}

const M64 = (1n << 64n) - 1n;

/** Reads ty bits of guest state at off. */
export function getState(s: GuestState, off: number, ty: Ty): bigint {
  switch (ty) {
    case Ty.I1: return fromU32(s.bytes[off] & 1);
    case Ty.I8: return fromU32(s.bytes[off]);
    case Ty.I16: return fromU32(s.dv.getUint16(off, true));
    case Ty.I32: return fromU32(s.dv.getUint32(off, true));
    case Ty.I64: return (off & 7) === 0 ? s.u64[off >> 3] : s.dv.getBigUint64(off, true);
    case Ty.I128: return s.dv.getBigUint64(off, true) | (s.dv.getBigUint64(off + 8, true) << 64n);
  }
}

/** Writes ty bits of guest state at off. */
export function putState(s: GuestState, off: number, ty: Ty, v: bigint): void {
  switch (ty) {
    case Ty.I1: case Ty.I8: s.bytes[off] = low32(v); return;
    case Ty.I16: s.dv.setUint16(off, low32(v), true); return;
    case Ty.I32: s.dv.setUint32(off, low32(v), true); return;
    case Ty.I64:
      if ((off & 7) === 0) s.u64[off >> 3] = v;
      else s.dv.setBigUint64(off, v, true);
      return;
    case Ty.I128:
      s.dv.setBigUint64(off, v & M64, true);
      s.dv.setBigUint64(off + 8, v >> 64n, true);
      return;
  }
}

/** Runs a block once. */
export function interpret(sb: IRSB, s: GuestState, env: InterpEnv): BlockExit {
  const T: bigint[] = new Array(sb.tyenv.length);
  const tyenv = sb.tyenv;
  const val = (a: Atom): bigint => (a.tag === 'tmp' ? T[a.t] : a.v);
  let insnAddr = sb.addr;
  // Instructions started so far (IMarks passed).
  let started = 0;

  const evalExpr = (e: Expr): bigint => {
    switch (e.tag) {
      case 'tmp': return T[e.t];
      case 'const': return e.v;
      case 'get': return getState(s, e.off, e.ty);
      case 'load': return env.mem.load(toNum(val(e.addr)), tyBytes(e.ty));
      case 'unop': return evalUnop(e.op, e.ty, val(e.a));
      case 'conv': return evalConv(e.op, e.from, e.to, val(e.a));
      case 'binop': return evalBinop(e.op, e.ty, val(e.a), val(e.b));
      case 'ite': return val(e.cond) !== 0n ? val(e.t) : val(e.f);
      case 'ccall': return pureHelper(e.fn).fn(...e.args.map(val));
    }
  };

  const leave = (next: number, jk: JumpKind, insns: number | undefined): BlockExit => {
    s.u64[OFF.RIP >> 3] = fromNum(next);
    return { next, jk, insnAddr, insns };
  };

  try {
    for (const st of sb.stmts) {
      switch (st.tag) {
        case 'imark':
          insnAddr = st.addr;
          started++;
          break;
        case 'wrtmp': T[st.t] = evalExpr(st.e); break;
        case 'put': {
          const ty = st.a.tag === 'tmp' ? tyenv[st.a.t] : st.a.ty;
          putState(s, st.off, ty, val(st.a));
          break;
        }
        case 'store': {
          const ty = st.data.tag === 'tmp' ? tyenv[st.data.t] : st.data.ty;
          env.mem.store(toNum(val(st.addr)), tyBytes(ty), val(st.data));
          break;
        }
        case 'exit':
          if (val(st.guard) !== 0n) return leave(st.dst, st.jk, sideExitInsns(st.jk, started));
          break;
        case 'dirty': {
          if (st.guard && val(st.guard) === 0n) {
            if (st.t !== undefined) T[st.t] = 0n;
            break;
          }
          const fn = env.dirty[st.fn];
          if (!fn) throw new Error(`no dirty helper ${st.fn} in the interpreter's environment`);
          const r = fn(insnAddr, ...st.args.map(val));
          if (st.t !== undefined) T[st.t] = r ?? 0n;
          break;
        }
      }
    }
  } catch (e) {
    if (e instanceof GuestMemoryFault) {
      e.insnAddr = insnAddr;
      s.u64[OFF.RIP >> 3] = BigInt(insnAddr);
    }
    throw e;
  }
  return leave(toNum(val(sb.next)), sb.jk, undefined);
}
