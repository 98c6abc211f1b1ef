/**
 * IR → JavaScript: each superblock becomes one function, compiled with `new Function`, with the
 * same contract as the interpreter (interp.ts): it runs the block over the guest state and a
 * memory interface and says how it was left.
 *
 * The IR is flat and in SSA form, so every statement prints as one line and every temporary as
 * one `const`, except where a line would be wasted: copies print as their source, comparisons
 * used once as a guard print as the JS condition, and pure operations used once print where
 * they are used. 64-bit arithmetic stays on BigInts wrapped in BigInt.asUintN(64, …), which V8's
 * optimising compiler lowers to machine integers when the values do not escape; guest registers
 * are read and written through the state's BigUint64Array. Common operations are inlined;
 * the rest call the interpreter's own definitions (ops.ts), so both agree by construction.
 *
 * Generated code for `add rax, rbx` (a Get, an Add, the flag thunk, a Put):
 *   const t0 = u64[0];
 *   const t1 = u64[3];
 *   const t2 = BigInt.asUintN(64, t0 + t1);
 *   u64[17] = 4n; u64[18] = t0; u64[19] = t1; u64[20] = 0n;
 *   u64[0] = t2;
 */
import { GuestState, OFF } from './guest-state';
import { PURE_HELPERS } from './helpers';
import { BlockExit, InterpEnv, sideExitInsns } from './interp';
import type { FusedNames } from './fused-access';
import { Atom, Binop, Conv, Expr, exprAtoms, IRSB, Stmt, Ty, tyBytes, UnopSame } from './ir';
import { toNum } from './bigint-bits';
import { GuestMemoryFault } from './memory';
import { evalBinop, evalConv, evalUnop } from './ops';

/** A compiled block: call it like interpret(sb, state, env). */
export type CompiledBlock = (s: GuestState, env: InterpEnv) => BlockExit;

type Generated = (u64: BigUint64Array, dv: DataView, b8: Uint8Array, mem: InterpEnv['mem'],
  dirty: InterpEnv['dirty'], K: Runtime, N: (v: bigint) => number, A: InterpEnv['fused']) => number;

/** What generated code calls besides memory and dirty helpers. */
interface Runtime {
  readonly unop: typeof evalUnop;
  readonly binop: typeof evalBinop;
  readonly conv: typeof evalConv;
  readonly helpers: Readonly<Record<string, (...a: bigint[]) => bigint>>;
  /** The address of the instruction running when a memory fault happened. */
  ia: number;
  /** Extra runs of a self-looping block in its last call. */
  loops: number;
}

const HELPER_FNS: Record<string, (...a: bigint[]) => bigint> = Object.fromEntries(
  Object.entries(PURE_HELPERS).map(([k, h]) => [k, h.fn]));

const RIP_SLOT = OFF.RIP >> 3;

/** How a block is compiled. */
export interface CompileOptions {
  /**
   * A block that jumps back to its own start runs again inside its function, up to this many
   * extra times per call (a hot loop then costs no trip through the dispatcher). 0: never, as a
   * debugger's one-instruction blocks need.
   */
  readonly selfLoops?: number;
  /** A tool's shadow helpers to fuse with the access each precedes (fused-access.ts); run with env.fused. */
  readonly fuse?: FusedNames;
}

/**
 * A compiled block in parts, for the dispatcher to call without a wrapper: `fn` runs the block
 * and returns the index of the side exit taken, or -1 for the block's end.
 */
export interface CompiledCode {
  readonly fn: Generated;
  /** Per-block runtime: the faulting instruction's address, the extra runs of a self-loop. */
  readonly K: Runtime;
  readonly exits: readonly BlockExit[];
  /** The exit at the block's end when its target is constant. */
  readonly fallThrough: BlockExit | undefined;
  /** Refilled for a computed target (ret, indirect jumps): read before the block runs again. */
  readonly computed: { next: number; jk: BlockExit['jk']; insnAddr: number; insns: undefined };
  /** The block may loop inside its function (K.loops counts the extra runs). */
  readonly loops: boolean;
}

/** Compiles a block to its parts. */
export function compileCode(sb: IRSB, opts: CompileOptions = {}): CompiledCode {
  const g = new Gen(sb, opts.selfLoops ?? 0, opts.fuse);
  const src = g.body();
  // Named after the guest address, so that a CPU profile tells which block its time went to;
  // parenthesised so that V8 compiles it now, in one parse (a lazy inner function is parsed twice).
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const fn = new Function(`return (function block_${sb.addr.toString(16)}(u64, dv, b8, mem, dirty, K, N, A) {\n${src}\n});`)() as Generated;
  const exits: BlockExit[] = [];
  let ia = sb.addr;
  let n = 0;
  for (const s of sb.stmts) {
    if (s.tag === 'imark') {
      ia = s.addr;
      n++;
    }
    if (s.tag === 'exit') exits.push({ next: s.dst, jk: s.jk, insnAddr: ia, insns: sideExitInsns(s.jk, n) });
  }
  const lastInsn = ia;
  const fallThrough: BlockExit | undefined = sb.next.tag === 'const' ? { next: Number(sb.next.v), jk: sb.jk, insnAddr: lastInsn, insns: undefined } : undefined;
  const K: Runtime = { unop: evalUnop, binop: evalBinop, conv: evalConv, helpers: HELPER_FNS, ia: 0, loops: 0 };
  return { fn, K, exits, fallThrough, computed: { next: 0, jk: sb.jk, insnAddr: lastInsn, insns: undefined }, loops: g.loops };
}

/** Runs compiled code over a state: the block's exit (a memory fault carries its instruction's address). */
export function runCode(c: CompiledCode, s: GuestState, env: InterpEnv): BlockExit {
  let k: number;
  try {
    k = c.fn(s.u64, s.dv, s.bytes, env.mem, env.dirty, c.K, toNum, env.fused);
  } catch (e) {
    if (e instanceof GuestMemoryFault) {
      e.insnAddr = c.K.ia;
      s.u64[RIP_SLOT] = BigInt(c.K.ia);
    }
    throw e;
  }
  if (k >= 0) return c.exits[k];
  if (c.fallThrough) return c.fallThrough;
  c.computed.next = toNum(s.u64[RIP_SLOT]);
  return c.computed;
}

/** Compiles a block into a function with the interpreter's contract. */
export function compileBlock(sb: IRSB, opts: CompileOptions = {}): CompiledBlock {
  const c = compileCode(sb, opts);
  return (s, env) => runCode(c, s, env);
}

/** The JS source of a block's function body (exposed for tests and debugging). */
export function generate(sb: IRSB, opts: CompileOptions = {}): string {
  return new Gen(sb, opts.selfLoops ?? 0, opts.fuse).body();
}

const big = (v: bigint): string => `${v}n`;

/** The same temporary, or equal constants. */
function sameAtom(a: Atom, b: Atom): boolean {
  return a.tag === 'tmp' ? b.tag === 'tmp' && a.t === b.t : b.tag === 'const' && a.v === b.v;
}

/** The operand temporaries of a conjunction or disjunction of two I1 temporaries, if e is one. */
function junction(e: Expr): [number, number] | undefined {
  return e.tag === 'binop' && (e.op === 'And' || e.op === 'Or') && e.ty === Ty.I1 && e.a.tag === 'tmp' && e.b.tag === 'tmp'
    ? [e.a.t, e.b.t] : undefined;
}

/**
 * True for an expression that reads only its operands (no state, memory or helper), so that it
 * may be computed where its one use is instead of where it stands.
 */
function pure(e: Expr): boolean {
  return e.tag === 'binop' || e.tag === 'unop' || e.tag === 'conv' || e.tag === 'ite';
}

/** The temporary x of a negated condition (Not x, or x ^ 1, on I1), if e is one. */
function negated(e: Expr): number | undefined {
  if (e.tag === 'unop') return e.op === 'Not' && e.ty === Ty.I1 && e.a.tag === 'tmp' ? e.a.t : undefined;
  return e.tag === 'binop' && e.op === 'Xor' && e.ty === Ty.I1 && e.a.tag === 'tmp' && e.b.tag === 'const' && e.b.v === 1n
    ? e.a.t : undefined;
}
/** The all-ones literal of each type (computed once: BigInt arithmetic and printing are slow). */
const MASKS = new Map<Ty, string>([Ty.I1, Ty.I8, Ty.I16, Ty.I32, Ty.I64, Ty.I128]
  .map((ty) => [ty, ty === Ty.I1 ? '1n' : `0x${((1n << BigInt(ty)) - 1n).toString(16)}n`]));
const mask = (ty: Ty): string => MASKS.get(ty)!;

/** The literal that keeps every bit of a 64-bit word but a field of `bytes` bytes at bit `sh`, by bytes * 64 + sh. */
const KEEP_MASKS = new Map<number, string>();
function keepMask(bytes: number, sh: number): string {
  const key = bytes * 64 + sh;
  let m = KEEP_MASKS.get(key);
  if (m === undefined) {
    m = `0x${((~(((1n << BigInt(8 * bytes)) - 1n) << BigInt(sh))) & 0xffffffffffffffffn).toString(16)}n`;
    KEEP_MASKS.set(key, m);
  }
  return m;
}

class Gen {
  private readonly lines: string[] = [];
  private exitNo = 0;
  /**
   * The running instruction's address, and the one K.ia last got in code order: K.ia is written
   * only before a memory access (a fault reads it); helpers get the address as a literal.
   */
  private ia = 0;
  private iaWritten = -1;
  /** Temporaries that are another's value under a new name (a zero-extension): no line of their own. */
  private readonly alias: (string | undefined)[];
  /**
   * Comparisons used once, as a guard (an exit, a guarded helper call, an ite), by temporary: they
   * are printed as a JS condition where they are used instead of as a 1n/0n value.
   */
  private readonly conds: (string | undefined)[];
  /** 1 for temporaries whose only use is a guard. */
  private readonly guardOnly: Uint8Array;
  /** Uses of each temporary. */
  private readonly uses: Uint32Array;
  /**
   * Pure expressions used once, by temporary: printed where they are used. A guard made of
   * them then computes an operand only when JS's && or || needs it: memcheck's exact
   * comparison tests its naive part (any operand bit undefined) first and the rest only then.
   */
  private readonly inline: (string | undefined)[];
  /** The block jumps back to its start (by a side exit or at its end) and loops inside its function. */
  readonly loops: boolean;

  constructor(private readonly sb: IRSB, private readonly maxLoops: number, private readonly fuse: FusedNames | undefined) {
    const n = sb.tyenv.length;
    // Uses of each temporary, and which are guards (exits, guarded helper calls, ite conditions).
    const uses = (this.uses = new Uint32Array(n));
    this.alias = new Array<string | undefined>(n);
    this.inline = new Array<string | undefined>(n);
    this.conds = new Array<string | undefined>(n);
    const guardOnly = (this.guardOnly = new Uint8Array(n));
    const guards: number[] = [];
    const use = (a: Atom | undefined): void => {
      if (a !== undefined && a.tag === 'tmp') uses[a.t]++;
    };
    const guard = (a: Atom | undefined): void => {
      if (a !== undefined && a.tag === 'tmp') {
        uses[a.t]++;
        guards.push(a.t);
      }
    };
    for (const s of sb.stmts) {
      switch (s.tag) {
        case 'wrtmp':
          if (s.e.tag === 'ite') { guard(s.e.cond); use(s.e.t); use(s.e.f); } else for (const a of exprAtoms(s.e)) use(a);
          break;
        case 'put': use(s.a); break;
        case 'store': use(s.addr); use(s.data); break;
        case 'exit': guard(s.guard); break;
        case 'dirty': for (const a of s.args) use(a); guard(s.guard); break;
        case 'imark': break;
      }
    }
    use(sb.next);
    for (const t of guards) if (uses[t] === 1) guardOnly[t] = 1;
    // A condition whose one use is negated, or joined with another by And/Or, for a guard is
    // printed there too (backwards: a use comes after its definition).
    for (let i = sb.stmts.length - 1; i >= 0; i--) {
      const s = sb.stmts[i];
      if (s.tag !== 'wrtmp' || guardOnly[s.t] === 0) continue;
      const x = negated(s.e);
      if (x !== undefined && uses[x] === 1) guardOnly[x] = 1;
      const j = junction(s.e);
      if (j !== undefined && uses[j[0]] === 1 && uses[j[1]] === 1) guardOnly[j[0]] = guardOnly[j[1]] = 1;
    }
    this.loops = maxLoops > 0
      && (this.toStart(sb.jk, sb.next) || sb.stmts.some((x) => x.tag === 'exit' && this.toStart(x.jk, x.dst)));
  }

  /** True for a plain jump (an exit's address or the block's next) back to the block's start. */
  private toStart(jk: string, dst: Atom | number): boolean {
    return jk === 'Boring' && (typeof dst === 'number' ? dst === this.sb.addr : dst.tag === 'const' && dst.v === BigInt(this.sb.addr));
  }

  /** The jump back to the block's start when it may loop once more; nothing when it cannot. */
  private again(jk: string, dst: Atom | number): string {
    return this.loops && this.toStart(jk, dst) ? `if (n < ${this.maxLoops}) { n++; continue; } ` : '';
  }

  private leave(k: number): string {
    return this.loops ? `K.loops = n; return ${k};` : `return ${k};`;
  }

  private ty(a: Atom): Ty {
    return a.tag === 'const' ? a.ty : this.sb.tyenv[a.t];
  }

  private atom(a: Atom): string {
    if (a.tag === 'const') return big(a.v);
    const e = this.inline[a.t];
    return e !== undefined ? `(${e})` : this.alias[a.t] ?? `t${a.t}`;
  }

  /** A guard as a JS condition: true when the I1 atom is 1. */
  private guard(a: Atom): string {
    const c = a.tag === 'tmp' ? this.conds[a.t] : undefined;
    return c ?? `${this.atom(a)} !== 0n`;
  }

  body(): string {
    const stmts = this.sb.stmts;
    let i = 0;
    if (this.loops) {
      this.lines.push('let n = 0;');
      // An entry check runs once, before the loop: the block's own run cannot make it fail.
      for (const end = this.entryCheckEnd(); i <= end; i++) this.stmt(stmts[i]);
      this.lines.push('for (;;) {');
    }
    for (; i < stmts.length; i++) {
      if (this.fused(stmts[i], stmts[i + 1])) i++;
      else this.stmt(stmts[i]);
    }
    this.lines.push(`${this.again(this.sb.jk, this.sb.next)}u64[${RIP_SLOT}] = ${this.atom(this.sb.next)};`, this.leave(-1));
    if (this.loops) this.lines.push('}');
    return `"use strict";\n${this.lines.join('\n')}`;
  }

  /**
   * The index of the block's entry check (a 'SlowPath' exit to its own start preceded only by
   * reads of state and pure operations whose results are used nowhere after it), or -1.
   */
  private entryCheckEnd(): number {
    const stmts = this.sb.stmts;
    // Uses of each temporary up to the check, to compare with its uses in the whole block.
    const local = new Map<number, number>();
    const count = (a: Atom): void => { if (a.tag === 'tmp') local.set(a.t, (local.get(a.t) ?? 0) + 1); };
    for (let i = 0; i < stmts.length; i++) {
      const s = stmts[i];
      if (s.tag === 'imark') continue;
      if (s.tag === 'wrtmp' && s.e.tag !== 'load' && s.e.tag !== 'ccall') {
        for (const a of exprAtoms(s.e)) count(a);
        local.set(s.t, local.get(s.t) ?? 0);
        continue;
      }
      if (s.tag !== 'exit' || s.jk !== 'SlowPath' || s.dst !== this.sb.addr) return -1;
      count(s.guard);
      for (const [t, n] of local) if (n !== this.uses[t]) return -1;
      return i;
    }
    return -1;
  }

  /**
   * A tool's shadow helper followed by the access it shadows (same address, same size), printed
   * as one call of the fused access; false when s and next are not such a pair.
   */
  private fused(s: Stmt, next: Stmt | undefined): boolean {
    const f = this.fuse;
    if (f === undefined || s.tag !== 'dirty' || s.guard !== undefined || next === undefined) return false;
    const [addr, size, shadow] = s.args;
    if (addr === undefined || size?.tag !== 'const') return false;
    const n = Number(size.v);
    if (s.fn === f.load && s.t !== undefined && s.args.length === 2 && next.tag === 'wrtmp' && next.e.tag === 'load'
      && sameAtom(next.e.addr, addr) && tyBytes(next.e.ty) === n) {
      this.setIa();
      this.lines.push(`const t${next.t} = A.load(K.ia, N(${this.atom(addr)}), ${n});`, `const t${s.t} = A.v;`);
      return true;
    }
    if (s.fn === f.store && s.t === undefined && shadow !== undefined && s.args.length === 3 && next.tag === 'store'
      && sameAtom(next.addr, addr) && tyBytes(this.ty(next.data)) === n) {
      this.setIa();
      this.lines.push(`A.store(K.ia, N(${this.atom(addr)}), ${n}, ${this.atom(shadow)}, ${this.atom(next.data)});`);
      return true;
    }
    return false;
  }

  /** Writes K.ia before a memory access, for a fault's handler (runCode). */
  private setIa(): void {
    if (this.iaWritten === this.ia) return;
    this.lines.push(`K.ia = ${this.ia};`);
    this.iaWritten = this.ia;
  }

  private stmt(s: Stmt): void {
    const L = this.lines;
    switch (s.tag) {
      case 'imark':
        this.ia = s.addr;
        L.push(`// ${s.addr.toString(16)}`);
        return;
      case 'wrtmp':
        // Values are unsigned BigInts of any width, so a copy or zero-extension is the value itself.
        if (s.e.tag === 'tmp' || s.e.tag === 'const' || (s.e.tag === 'conv' && s.e.op === 'ZExt')) {
          const a = s.e.tag === 'conv' ? s.e.a : s.e;
          // An alias may be used many times: what it names is computed once, here.
          if (a.tag === 'tmp' && this.inline[a.t] !== undefined) {
            L.push(`const t${a.t} = ${this.inline[a.t]!};`);
            this.inline[a.t] = undefined;
          }
          this.alias[s.t] = this.atom(a);
          return;
        }
        // Operands are SSA temporaries or constants, so the comparison can move to its one use.
        if (this.guardOnly[s.t] === 1) {
          const c = s.e.tag === 'binop' ? this.comparison(s.e.op, s.e.ty, s.e.a, s.e.b) : undefined;
          if (c !== undefined) {
            this.conds[s.t] = c;
            return;
          }
          // A negated condition (Not x or x ^ 1 on I1, as a jcc's inverted sense lifts).
          const x = negated(s.e);
          const cx = x === undefined ? undefined : this.conds[x];
          if (cx !== undefined) {
            this.conds[s.t] = `!(${cx})`;
            return;
          }
          const j = junction(s.e);
          const [ca, cb] = j === undefined ? [] : [this.conds[j[0]], this.conds[j[1]]];
          if (ca !== undefined && cb !== undefined) {
            this.conds[s.t] = `(${ca}) ${s.e.tag === 'binop' && s.e.op === 'And' ? '&&' : '||'} (${cb})`;
            return;
          }
        }
        if (this.uses[s.t] === 1 && pure(s.e)) {
          this.inline[s.t] = this.expr(s.e);
          return;
        }
        if (s.e.tag === 'load') this.setIa();
        L.push(`const t${s.t} = ${this.expr(s.e)};`);
        return;
      case 'put':
        L.push(this.put(s.off, this.ty(s.a), this.atom(s.a)));
        return;
      case 'store':
        this.setIa();
        L.push(`mem.store(N(${this.atom(s.addr)}), ${tyBytes(this.ty(s.data))}, ${this.atom(s.data)});`);
        return;
      case 'exit':
        L.push(`if (${this.guard(s.guard)}) { ${this.again(s.jk, s.dst)}u64[${RIP_SLOT}] = ${s.dst}n; ${this.leave(this.exitNo++)} }`);
        return;
      case 'dirty': {
        const call = `dirty[${JSON.stringify(s.fn)}](${[String(this.ia), ...s.args.map((a) => this.atom(a))].join(', ')})`;
        const guard = s.guard ? this.guard(s.guard) : undefined;
        if (s.t === undefined) L.push(guard ? `if (${guard}) ${call};` : `${call};`);
        else L.push(`const t${s.t} = ${guard ? `${guard} ? (${call} ?? 0n) : 0n` : `${call} ?? 0n`};`);
        return;
      }
    }
  }

  private get(off: number, ty: Ty): string {
    const bytes = tyBytes(ty);
    if (bytes < 8 && (off & 7) + bytes <= 8) {
      // A field inside one 64-bit word, cut out with BigInt operations only (BigInt(number) is
      // a runtime call in V8, as Number(bigint) is).
      const sh = (off & 7) * 8;
      const word = `u64[${off >> 3}]`;
      return `BigInt.asUintN(${ty}, ${sh ? `${word} >> ${sh}n` : word})`;
    }
    switch (ty) {
      case Ty.I1: return `BigInt(b8[${off}] & 1)`;
      case Ty.I8: return `BigInt(b8[${off}])`;
      case Ty.I16: return `BigInt(dv.getUint16(${off}, true))`;
      case Ty.I32: return `BigInt(dv.getUint32(${off}, true))`;
      case Ty.I64: return off % 8 === 0 ? `u64[${off >> 3}]` : `dv.getBigUint64(${off}, true)`;
      case Ty.I128: return off % 8 === 0
        ? `(u64[${off >> 3}] | (u64[${(off >> 3) + 1}] << 64n))`
        : `(dv.getBigUint64(${off}, true) | (dv.getBigUint64(${off + 8}, true) << 64n))`;
    }
  }

  private put(off: number, ty: Ty, v: string): string {
    const bytes = tyBytes(ty);
    if (bytes < 8 && (off & 7) + bytes <= 8) {
      // A field inside one 64-bit word: masked into the word with BigInt operations only
      // (Number(bigint) is a slow runtime call in V8).
      const w = off >> 3;
      const sh = (off & 7) * 8;
      return `u64[${w}] = (u64[${w}] & ${keepMask(bytes, sh)}) | ${sh ? `(${v} << ${sh}n)` : v};`;
    }
    switch (ty) {
      case Ty.I1: case Ty.I8: return `b8[${off}] = N(${v});`;
      case Ty.I16: return `dv.setUint16(${off}, N(${v}), true);`;
      case Ty.I32: return `dv.setUint32(${off}, N(${v}), true);`;
      case Ty.I64: return off % 8 === 0 ? `u64[${off >> 3}] = ${v};` : `dv.setBigUint64(${off}, ${v}, true);`;
      case Ty.I128: return off % 8 === 0
        ? `u64[${off >> 3}] = ${v} & 0xffffffffffffffffn; u64[${(off >> 3) + 1}] = ${v} >> 64n;`
        : `dv.setBigUint64(${off}, ${v} & 0xffffffffffffffffn, true); dv.setBigUint64(${off + 8}, ${v} >> 64n, true);`;
    }
  }

  private expr(e: Expr): string {
    switch (e.tag) {
      case 'tmp': case 'const': return this.atom(e);
      case 'get': return this.get(e.off, e.ty);
      case 'load': return `mem.load(N(${this.atom(e.addr)}), ${tyBytes(e.ty)})`;
      case 'unop': return this.unop(e.op, e.ty, this.atom(e.a));
      case 'conv': return this.conv(e.op, e.from, e.to, this.atom(e.a));
      case 'binop': return this.binop(e.op, e.ty, e.a, e.b);
      case 'ite': return `(${this.guard(e.cond)} ? ${this.atom(e.t)} : ${this.atom(e.f)})`;
      case 'ccall': return `K.helpers.${e.fn}(${e.args.map((a) => this.atom(a)).join(', ')})`;
    }
  }

  private unop(op: UnopSame, ty: Ty, a: string): string {
    switch (op) {
      case 'Not': return `(${a} ^ ${mask(ty)})`;
      case 'Neg': return `BigInt.asUintN(${ty}, -${a})`;
      default: return `K.unop(${JSON.stringify(op)}, ${ty}, ${a})`;
    }
  }

  private conv(op: Conv, from: Ty, to: Ty, a: string): string {
    switch (op) {
      case 'ZExt': return a;
      case 'Narrow': return `BigInt.asUintN(${to}, ${a})`;
      case 'SExt': return `BigInt.asUintN(${to}, BigInt.asIntN(${from}, ${a}))`;
      case 'NarrowHi': return `(${a} >> ${from - to}n)`;
      default: return `K.conv(${JSON.stringify(op)}, ${from}, ${to}, ${a})`;
    }
  }

  /** The JS condition of a comparison operation, or undefined for other operations. */
  private comparison(op: Binop, ty: Ty, ea: Atom, eb: Atom): string | undefined {
    const a = this.atom(ea);
    const b = this.atom(eb);
    const signed = (x: Atom): string => (x.tag === 'const' ? big(BigInt.asIntN(ty, x.v)) : `BigInt.asIntN(${ty}, ${this.atom(x)})`);
    switch (op) {
      case 'CmpEQ': return `${a} === ${b}`;
      case 'CmpNE': return `${a} !== ${b}`;
      case 'CmpLTU': return `${a} < ${b}`;
      case 'CmpLEU': return `${a} <= ${b}`;
      case 'CmpLTS': return `${signed(ea)} < ${signed(eb)}`;
      case 'CmpLES': return `${signed(ea)} <= ${signed(eb)}`;
      default: return undefined;
    }
  }

  private binop(op: Binop, ty: Ty, ea: Atom, eb: Atom): string {
    const a = this.atom(ea);
    const b = this.atom(eb);
    const w = ty;
    const signed = (x: string): string => `BigInt.asIntN(${w}, ${x})`;
    switch (op) {
      case 'Add': return `BigInt.asUintN(${w}, ${a} + ${b})`;
      case 'Sub': return `BigInt.asUintN(${w}, ${a} - ${b})`;
      case 'Mul': return `BigInt.asUintN(${w}, ${a} * ${b})`;
      case 'And': return `(${a} & ${b})`;
      case 'Or': return `(${a} | ${b})`;
      case 'Xor': return `(${a} ^ ${b})`;
      case 'CmpEQ': case 'CmpNE': case 'CmpLTU': case 'CmpLEU': case 'CmpLTS': case 'CmpLES':
        return `(${this.comparison(op, ty, ea, eb)!} ? 1n : 0n)`;
      case 'HL': return `((${a} << ${w}n) | ${b})`;
      case 'Shl': case 'Shr': case 'Sar':
        // A constant amount below the width is one machine shift; anything else goes to ops.ts.
        if (eb.tag === 'const' && eb.v < BigInt(w)) {
          const n = `${eb.v}n`;
          if (op === 'Shl') return `BigInt.asUintN(${w}, ${a} << ${n})`;
          if (op === 'Shr') return `(${a} >> ${n})`;
          return `BigInt.asUintN(${w}, ${signed(a)} >> ${n})`;
        }
        // A variable amount: the same rules as ops.ts (amounts of the width or more shift everything out).
        if (op === 'Shl') return `(${b} >= ${w}n ? 0n : BigInt.asUintN(${w}, ${a} << ${b}))`;
        if (op === 'Shr') return `(${b} >= ${w}n ? 0n : ${a} >> ${b})`;
        return `BigInt.asUintN(${w}, ${signed(a)} >> (${b} >= ${w}n ? ${w - 1}n : ${b}))`;
      default:
        return `K.binop(${JSON.stringify(op)}, ${w}, ${a}, ${b})`;
    }
  }
}
