/**
 * Memcheck's instrumentation pass (mc_translate.c's MC_(instrument)): IR in, IR out, with every
 * value accompanied by its V bits (1 = undefined) and checks where memcheck places them.
 *
 * - Each temporary gets a shadow temporary of the same type; constants are defined.
 * - Guest state has a shadow at offset + SHADOW_OFFSET: a Get reads it, a Put writes it.
 * - Memory V bits come through helpers the engine provides: `mc_loadv(addr, size)` returns them
 *   (and reports an invalid read when the bytes are not addressable), `mc_storev(addr, size,
 *   vbits)` records them (and reports an invalid write).
 * - Checks, each a guarded call that fires only when the checked value has undefined bits:
 *   the guard of a conditional exit (`mc_cond_fail`: "Conditional jump or move depends on
 *   uninitialised value(s)"), load and store addresses and the target of an indirect jump
 *   (`mc_value_fail(size)`: "Use of uninitialised value of size N"). With `origins`, each
 *   check also gets the otag of the value (origins.ts): `mc_cond_fail(otag)`,
 *   `mc_value_fail(size, otag)`. As in memcheck, a value
 *   complained about is treated as defined afterwards in the block, so one bad value gives one
 *   report. Copies of undefined data are never checked.
 * - With `origins` (--track-origins=yes), every value also gets an origin tag, kept in a third
 *   area of the guest state and in memory through `mc_loado`/`mc_storeo` (origins.ts). Without
 *   it, the output is exactly what it was before origins existed.
 * - The exits the lifter adds for CPU traps (a divide error, a misaligned SSE access) are not
 *   program conditions: on real hardware they are the trap itself, so they are not checked.
 *
 * Shadow statements precede the statement they shadow, so a report names the instruction
 * before it runs (the interpreter passes the current instruction's address to the helpers).
 */
import { foldOrSimplify } from '../../jit/fold';
import { gprOff, RSP, SHADOW_OFFSET } from '../../jit/guest-state';
import { pureHelper } from '../../jit/helpers';
import {
  Atom, atomTy, Binop, BinopE, binopResultTy, Expr, exprTy, IRBuilder, IRSB, JumpKind, Ty, tyBytes,
} from '../../jit/ir';
import { Shadow } from './combinators';
import { BlockDetail, blockDetail, DefinednessDetail } from './detail';
import { MC_ORIGIN_DIRTY, OriginPass, OTAG_TY } from './origins';
import { BINOP_RULES, CONV_RULES, UNOP_RULES } from './rules';
import { StackMoves } from './sp-moves';

/** The helpers the instrumented code calls, with their signatures (for the IR checker). */
export const MC_DIRTY = {
  /** (addr, size) → V bits of the loaded value (its type is the load's). */
  loadV: 'mc_loadv',
  /** (addr, size, vbits). */
  storeV: 'mc_storev',
  /** () — a conditional jump on an undefined guard. */
  condFail: 'mc_cond_fail',
  /** (size) — an undefined address or jump target. */
  valueFail: 'mc_value_fail',
  /** (old rsp, new rsp) — the stack pointer moves (trackSp). */
  spChange: 'mc_sp_change',
  /** (rsp, next pc) — a call or return: the ABI's red zone below rsp holds nothing defined (trackSp). */
  redzoneUndefined: 'mc_redzone_undefined',
  /** (old rsp, new rsp, next pc) — a return's stack-pointer moves and its red zone in one call (trackSp). */
  spReturn: 'mc_sp_return',
  ...MC_ORIGIN_DIRTY,
} as const;

export const MC_DIRTY_SIGNATURES: Readonly<Record<string, { args: readonly Ty[]; ret?: Ty }>> = {
  [MC_DIRTY.loadV]: { args: [Ty.I64, Ty.I64] },
  [MC_DIRTY.storeV]: { args: [Ty.I64, Ty.I64] },
  [MC_DIRTY.condFail]: { args: [] },
  [MC_DIRTY.valueFail]: { args: [Ty.I64] },
  [MC_DIRTY.spChange]: { args: [Ty.I64, Ty.I64] },
  [MC_DIRTY.redzoneUndefined]: { args: [Ty.I64, Ty.I64] },
  [MC_DIRTY.spReturn]: { args: [Ty.I64, Ty.I64, Ty.I64] },
};

/** The signatures with `origins`: the checks take the otag, and the origin helpers are added. */
export const MC_ORIGIN_DIRTY_SIGNATURES: Readonly<Record<string, { args: readonly Ty[]; ret?: Ty }>> = {
  ...MC_DIRTY_SIGNATURES,
  [MC_DIRTY.condFail]: { args: [OTAG_TY] },
  [MC_DIRTY.valueFail]: { args: [Ty.I64, OTAG_TY] },
  [MC_DIRTY.loadO]: { args: [Ty.I64, Ty.I64], ret: OTAG_TY },
  [MC_DIRTY.storeO]: { args: [Ty.I64, Ty.I64, OTAG_TY] },
};

export interface McInstrumentOptions {
  /**
   * Where the exact rules replace the cheap ones (--expensive-definedness-checks; detail.ts):
   * comparisons defined as soon as a bit defined in both operands differs, adds and subtracts
   * that follow the carries. Default 'no': the cheap rules throughout.
   */
  readonly detail?: DefinednessDetail;
  /**
   * Tell the engine of every stack-pointer move (mc_sp_change for the Puts of rsp; a run of
   * moves one way, as pushes and `sub rsp` make, in one call: sp-moves.ts), so that a new frame
   * becomes undefined and a popped one unaddressable, as memcheck tracks the stack.
   */
  readonly trackSp?: boolean;
  /** Origin tracking (--track-origins=yes): otags beside the V bits; see origins.ts. */
  readonly origins?: boolean;
  /**
   * The fast translation (not with origins): the block as if every value were defined, which
   * nearly every value is. It first checks that the registers it reads or writes are defined, and
   * after each load that the loaded bytes are; otherwise it leaves with jk 'SlowPath' at the block's
   * start or at the loading instruction (nothing of that instruction done yet), for the full
   * translation to run from there. Addressability checks and stack tracking stay; stores and
   * register writes record defined V bits. instrumentMemcheck returns undefined for a block
   * where an instruction loads after it has written something (it could not leave cleanly).
   */
  readonly fast?: boolean;
}

const RSP_OFF = gprOff(RSP);

/** Operations whose result is a constant when both operands are the same value (memcheck: defined). */
const SELF_IDIOMS: ReadonlySet<Binop> = new Set<Binop>(['Xor', 'Sub', 'CmpEQ8x16', 'CmpEQ16x8', 'CmpEQ32x4', 'CmpEQ64x2']);

/** Exits the lifter adds for traps rather than program conditions. */
const TRAP_EXITS: ReadonlySet<JumpKind> = new Set<JumpKind>(['SigFPE', 'SigSEGV']);

/** Instruments a block for memcheck (undefined: no fast translation of this block). */
export function instrumentMemcheck(sb: IRSB, opts: McInstrumentOptions & { fast: true }): IRSB | undefined;
export function instrumentMemcheck(sb: IRSB, opts?: McInstrumentOptions): IRSB;
export function instrumentMemcheck(sb: IRSB, opts: McInstrumentOptions = {}): IRSB | undefined {
  if (opts.fast && (opts.origins || !loadsBeforeWrites(sb))) return undefined;
  return new Instrumenter(sb, opts).run();
}

/** True when no instruction of the block loads after it has written a register or memory or called a helper. */
function loadsBeforeWrites(sb: IRSB): boolean {
  let wrote = false;
  for (const st of sb.stmts) {
    if (st.tag === 'imark') wrote = false;
    else if (st.tag === 'put' || st.tag === 'store' || st.tag === 'dirty') wrote = true;
    else if (st.tag === 'wrtmp' && st.e.tag === 'load' && wrote) return false;
  }
  return true;
}

/**
 * The guest state a block reads or writes, one access per offset (the widest), for the fast
 * translation's entry check. Written parts count too: once their V bits are known to be 0, the
 * fast block's writes of 0 there need not be made.
 */
function stateAccesses(sb: IRSB): Map<number, Ty> {
  const acc = new Map<number, Ty>();
  const note = (off: number, ty: Ty): void => { if ((acc.get(off) ?? 0) < ty) acc.set(off, ty); };
  for (const st of sb.stmts) {
    if (st.tag === 'wrtmp' && st.e.tag === 'get') note(st.e.off, st.e.ty);
    else if (st.tag === 'put') note(st.off, atomTy(sb.tyenv, st.a));
  }
  return acc;
}

class Instrumenter {
  private readonly b = new IRBuilder(foldOrSimplify);
  private readonly sh = new Shadow(this.b);
  /** Original temporary → its value in the new block. */
  private readonly value = new Map<number, Atom>();
  /** Original temporary → its V bits. */
  private readonly vbits = new Map<number, Atom>();
  /** The origin half, with `origins` only (without it the output is as if it did not exist). */
  private readonly og: OriginPass | undefined;
  /** The block's stack-pointer moves (trackSp), merged into runs. */
  private readonly moves = new StackMoves(
    (from, to) => this.b.dirty(MC_DIRTY.spChange, [from, to]), () => this.b.get(RSP_OFF, Ty.I64));

  /** Which operations of this block get the exact rules. */
  private readonly detail: BlockDetail;

  constructor(private readonly sb: IRSB, private readonly opts: McInstrumentOptions) {
    this.detail = blockDetail(sb, opts.detail ?? 'no');
    this.og = opts.origins
      ? new OriginPass(this.b, this.sh, { O: (a) => this.O(a), V: (a) => this.V(a), ty: (a) => this.tyOf(a) })
      : undefined;
  }

  private tyOf(a: Atom): Ty {
    return atomTy(this.sb.tyenv, a);
  }

  // Index of the block's last 64-bit Put to rsp, or -1.
  private lastRspPut(): number {
    const stmts = this.sb.stmts;
    for (let i = stmts.length - 1; i >= 0; i--) {
      const st = stmts[i];
      if (st.tag === 'put' && st.off === RSP_OFF && this.tyOf(st.a) === Ty.I64) return i;
    }
    return -1;
  }

  /** The new block's atom for an original atom. */
  private O(a: Atom): Atom {
    return a.tag === 'const' ? a : this.value.get(a.t)!;
  }

  /** The V bits of an original atom. */
  private V(a: Atom): Atom {
    return a.tag === 'const' ? this.sh.defined(a.ty) : this.vbits.get(a.t)!;
  }

  run(): IRSB {
    const { b, sb } = this;
    // A call's push of its return address needs no stack-pointer hook of its own: the red zone
    // made undefined at the call, below the new stack pointer, covers the 8 bytes it would mark.
    const skipSp = this.opts.trackSp && sb.jk === 'Call' ? this.lastRspPut() : -1;
    const moves = this.opts.trackSp ? this.moves : undefined;
    let ia = sb.addr;
    let entryChecked = false;
    for (let i = 0; i < sb.stmts.length; i++) {
      const st = sb.stmts[i];
      switch (st.tag) {
        case 'imark':
          b.imark(st.addr, st.len);
          // In its first instruction, before anything is done: is the state the block reads or writes defined?
          if (this.opts.fast && !entryChecked) this.entryCheck();
          entryChecked = true;
          ia = st.addr;
          break;
        case 'wrtmp': {
          if (st.e.tag === 'load') moves?.access(st.e.addr);
          moves?.assign(st.t, st.e, RSP_OFF);
          const v = this.exprVbits(st.e, st.t);
          this.og?.assign(st.t, st.e, v);
          this.value.set(st.t, b.assign(this.copyExpr(st.e)));
          if (this.opts.fast && st.e.tag === 'load') {
            this.slowPathIf(b.binop('CmpNE', v, this.sh.defined(st.e.ty)), ia);
            this.vbits.set(st.t, this.sh.defined(st.e.ty));
            break;
          }
          this.vbits.set(st.t, v);
          break;
        }
        case 'put':
          if (moves && st.off === RSP_OFF && this.tyOf(st.a) === Ty.I64) {
            if (i === skipSp) moves.untracked(st.a);
            else moves.put(st.a, this.O(st.a));
            // With origins, each move keeps its own instruction: its otag names it.
            if (this.og) moves.flush();
          }
          // A fast block's entry check covers every part of the state it writes (stateAccesses),
          // and found 0s there: they stay 0.
          if (!this.opts.fast) b.put(st.off + SHADOW_OFFSET, this.V(st.a));
          this.og?.put(st.off, st.a);
          b.put(st.off, this.O(st.a));
          break;
        case 'store': {
          moves?.access(st.addr);
          this.complain(st.addr, 'value');
          const size = tyBytes(this.tyOf(st.data));
          b.dirty(MC_DIRTY.storeV, [this.O(st.addr), b.c(Ty.I64, size), this.V(st.data)]);
          this.og?.store(st.addr, st.data);
          b.store(this.O(st.addr), this.O(st.data));
          break;
        }
        case 'exit':
          moves?.flush();
          if (!TRAP_EXITS.has(st.jk)) this.complain(st.guard, 'cond');
          b.exit(this.O(st.guard), st.jk, st.dst);
          break;
        case 'dirty': {
          moves?.flush();
          if (st.guard) this.complain(st.guard, 'cond');
          const r = b.dirty(st.fn, st.args.map((a) => this.O(a)), st.ty, st.guard && this.O(st.guard));
          if (st.t !== undefined && r) {
            this.value.set(st.t, r);
            const v = this.sh.lazy(st.args.map((a) => this.V(a)), st.ty!);
            this.vbits.set(st.t, v);
            this.og?.assignCall(st.t, st.args, v);
          }
          break;
        }
      }
    }
    // A return's pops (its own and the epilogue's) go with its red zone below.
    const popped = sb.jk === 'Ret' ? moves?.take() : undefined;
    moves?.flush();
    // An indirect jump (ret, jmp *reg) through an undefined target.
    this.complain(sb.next, 'value');
    // The callee (or, after a return, the next call) owns the red zone: whatever it holds is
    // garbage to the code that runs next (VEX's AbiHint at call and ret).
    if (popped) b.dirty(MC_DIRTY.spReturn, [popped.from, popped.to, this.O(sb.next)]);
    else if (moves && (sb.jk === 'Call' || sb.jk === 'Ret')) b.dirty(MC_DIRTY.redzoneUndefined, [b.get(RSP_OFF, Ty.I64), this.O(sb.next)]);
    return b.finish(sb.addr, this.O(sb.next), sb.jk, sb.insns, sb.len);
  }

  /**
   * The fast translation's entry check: leave for the full translation if guest state the block
   * reads or writes has an undefined bit. A fast block writes only 0s to V bits, so afterwards
   * they stay 0 there for the whole block (and each time round a self-loop).
   */
  private entryCheck(): void {
    const { b } = this;
    let bad: Atom | undefined;
    for (const [off, ty] of stateAccesses(this.sb)) {
      const v = b.binop('CmpNE', b.get(off + SHADOW_OFFSET, ty), this.sh.defined(ty));
      bad = bad ? b.binop('Or', bad, v) : v;
    }
    if (bad) b.exit(bad, 'SlowPath', this.sb.addr);
  }

  /** Leaves the fast translation for the full one at instruction ia when bad holds; a pending stack move is made on that path. */
  private slowPathIf(bad: Atom, ia: number): void {
    const { b } = this;
    const p = this.opts.trackSp ? this.moves.pending() : undefined;
    if (p) b.dirty(MC_DIRTY.spChange, [p.from, p.to], undefined, bad);
    b.exit(bad, 'SlowPath', ia);
  }

  /**
   * Reports once if a has undefined bits, then treats it as defined for the rest of the block
   * (memcheck's complainIfUndefined).
   */
  private complain(a: Atom, kind: 'cond' | 'value'): void {
    if (a.tag === 'const') return;
    const v = this.V(a);
    if (v.tag === 'const' && v.v === 0n) return;
    const { b } = this;
    const bad = this.sh.pcast(v, Ty.I1);
    const otag = this.og ? [this.og.B(a)] : [];
    if (kind === 'cond') b.dirty(MC_DIRTY.condFail, otag, undefined, bad);
    else b.dirty(MC_DIRTY.valueFail, [b.c(Ty.I64, tyBytes(this.tyOf(a))), ...otag], undefined, bad);
    this.vbits.set(a.t, this.sh.defined(this.tyOf(a)));
    this.og?.forget(a.t);
  }

  /** The original expression over the new block's atoms. */
  private copyExpr(e: Expr): Expr {
    const O = (a: Atom): Atom => this.O(a);
    switch (e.tag) {
      case 'tmp': case 'const': return O(e);
      case 'get': return e;
      case 'load': return { ...e, addr: O(e.addr) };
      case 'unop': case 'conv': return { ...e, a: O(e.a) };
      case 'binop': return { ...e, a: O(e.a), b: O(e.b) };
      case 'ite': return { ...e, cond: O(e.cond), t: O(e.t), f: O(e.f) };
      case 'ccall': return { ...e, args: e.args.map(O) };
    }
  }

  /** The V bits of an expression (emitting what computes them). */
  private exprVbits(e: Expr, t: number): Atom {
    const { b, sh } = this;
    // Fast: every value is defined (entry check, loads checked); only loads have V bits to look at.
    if (this.opts.fast && e.tag !== 'load') return sh.defined(exprTy(this.sb.tyenv, e));
    switch (e.tag) {
      case 'tmp': case 'const': return this.V(e);
      case 'get': return b.get(e.off + SHADOW_OFFSET, e.ty);
      case 'load':
        this.complain(e.addr, 'value');
        return b.dirty(MC_DIRTY.loadV, [this.O(e.addr), b.c(Ty.I64, tyBytes(e.ty))], e.ty)!;
      case 'unop': {
        const va = this.V(e.a);
        switch (UNOP_RULES[e.op]) {
          case 'copy': return va;
          case 'same': return b.unop(e.op, va);
          case 'left': return sh.left(va);
          case 'lazy': return sh.lazy([va], e.ty);
        }
        break;
      }
      case 'conv': {
        const va = this.V(e.a);
        return CONV_RULES[e.op] === 'lazy' ? sh.lazy([va], e.to) : b.conv(e.op, e.to, va);
      }
      case 'binop': return this.binopVbits(e, t);
      case 'ite': {
        const ty = this.tyOf(e.t);
        // Steer the V bits like the values, and trash them if the steering is undefined.
        return sh.uifu(b.ite(this.O(e.cond), this.V(e.t), this.V(e.f)), sh.pcast(this.V(e.cond), ty));
      }
      case 'ccall': {
        const mask = pureHelper(e.fn).mcxMask;
        return sh.lazy(e.args.filter((_, i) => !mask.includes(i)).map((a) => this.V(a)), e.ty);
      }
    }
    throw new Error('unreachable: every unary rule returns');
  }

  private binopVbits(e: BinopE, t: number): Atom {
    const { b, sh } = this;
    const { op, ty } = e;
    const va = this.V(e.a);
    const vb = this.V(e.b);
    const a = this.O(e.a);
    const c = this.O(e.b);
    // The zeroing idioms x ^ x and x - x, and the all-ones idiom pcmpeq x,x, do not depend on x.
    if (SELF_IDIOMS.has(op) && e.a.tag === 'tmp' && e.b.tag === 'tmp' && e.a.t === e.b.t) return sh.defined(ty);
    switch (BINOP_RULES[op]) {
      case 'union': return sh.uifu(va, vb);
      case 'left':
        if (op === 'Add' && this.detail.exactAdd(t, ty)) return this.exactAddSub('Add', a, c, va, vb);
        if (op === 'Sub' && this.detail.exactSub(ty)) return this.exactAddSub('Sub', a, c, va, vb);
        return sh.left(sh.uifu(va, vb));
      case 'improveAnd':
        return sh.difd(sh.uifu(va, vb), sh.difd(sh.improveAnd(a, va), sh.improveAnd(c, vb)));
      case 'improveOr':
        return sh.difd(sh.uifu(va, vb), sh.difd(sh.improveOr(a, va), sh.improveOr(c, vb)));
      case 'byAmount': return sh.uifu(b.binop(op, va, c), sh.pcast(vb, ty));
      case 'same': return b.binop(op, va, vb);
      case 'cmp': return sh.pcast(sh.uifu(va, vb), Ty.I1);
      case 'cmpEq': return this.detail.exactCmpEq(ty) ? this.exactCmpEq(a, c, va, vb) : sh.pcast(sh.uifu(va, vb), Ty.I1);
      case 'lanes8': return sh.pcastLanes(sh.uifu(va, vb), 8);
      case 'lanes16': return sh.pcastLanes(sh.uifu(va, vb), 16);
      case 'lanes32': return sh.pcastLanes(sh.uifu(va, vb), 32);
      case 'lanes64': return sh.pcastLanes(sh.uifu(va, vb), 64);
      case 'lazy': return sh.lazy([va, vb], binopResultTy(op, ty));
    }
  }

  /**
   * Add or Sub, exactly: run the operation on the smallest and on the largest values the
   * operands can take (undefined bits 0, then 1); result bits that differ between the two, and
   * the operands' undefined bits, are undefined (memcheck's expensiveAddSub). All of that only
   * when an operand has an undefined bit: compiled code computes an ite's arms lazily.
   */
  private exactAddSub(op: 'Add' | 'Sub', a: Atom, c: Atom, va: Atom, vb: Atom): Atom {
    const { b, sh } = this;
    const min = (x: Atom, v: Atom): Atom => b.binop('And', x, b.unop('Not', v));
    const max = (x: Atom, v: Atom): Atom => b.binop('Or', x, v);
    const undef = sh.uifu(va, vb);
    if (undef.tag === 'const' && undef.v === 0n) return undef;
    const spread = op === 'Add'
      ? b.binop('Xor', b.binop('Add', min(a, va), min(c, vb)), b.binop('Add', max(a, va), max(c, vb)))
      : b.binop('Xor', b.binop('Sub', min(a, va), max(c, vb)), b.binop('Sub', max(a, va), min(c, vb)));
    const exact = sh.uifu(undef, spread);
    // Known undefined bits (a constant): the carries they can make still count.
    if (undef.tag === 'const') return exact;
    const ty = b.ty(undef);
    return b.ite(b.binop('CmpEQ', undef, sh.defined(ty)), sh.defined(ty), exact);
  }

  /** CmpEQ/CmpNE defined when a bit defined in both operands differs (the answer is then known). */
  private exactCmpEq(a: Atom, c: Atom, va: Atom, vb: Atom): Atom {
    const { b, sh } = this;
    const undef = sh.uifu(va, vb);
    const naive = sh.pcast(undef, Ty.I1);
    const differs = b.binop('And', b.binop('Xor', a, c), b.unop('Not', undef));
    const known = b.binop('CmpNE', differs, b.c(b.ty(differs), 0));
    return b.binop('And', naive, b.unop('Not', known));
  }
}
