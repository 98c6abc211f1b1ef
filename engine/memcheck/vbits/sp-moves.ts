/**
 * Stack-pointer moves of one block, merged. Memcheck tells the engine of every Put to rsp
 * (`mc_sp_change`); a prologue's pushes and `sub rsp` or an epilogue's pops are several moves in
 * a row. A run of moves in one direction becomes one call at its end when nothing in between
 * could see the difference: the moves mark [min - 128, max - 128) (relative to the block's first
 * rsp), so every memory access in between must lie at or above max - 128, which the analysis
 * proves from constant offsets to rsp. Anything else (an access elsewhere, an exit, a helper
 * call, an offset it cannot follow) ends the run first.
 */
import { Atom, Expr, Ty } from '../../jit/ir';

/** amd64's red zone (the moves' marking starts this far below the stack pointer). */
const REDZONE = 128;
/** Offsets beyond this are not followed (no frame is that large; keeps the arithmetic exact). */
const MAX_OFFSET = 2 ** 31;

/** A run of moves not yet emitted: from the rsp atom before the first to the last value put. */
interface Run {
  readonly from: Atom;
  to: Atom;
  /** The highest rsp the run had, its start included. */
  maxOff: number;
  /** -1 down (frames made), +1 up (frames popped). */
  readonly dir: number;
}

export class StackMoves {
  /** Original temporary → its offset from the block's first rsp, where known. */
  private readonly offsets = new Map<number, number>();
  /** Offset of the current rsp, or undefined once a Put of an unknown value happened. */
  private cur: number | undefined = 0;
  private run: Run | undefined;

  /** emit(old, new) writes one mc_sp_change; rspNow() reads rsp in the new block as it is at that point. */
  constructor(private readonly emit: (from: Atom, to: Atom) => void, private readonly rspNow: () => Atom) {}

  /** Follows a temporary's offset from rsp (a Get of rsp, or constant adds to one that has one). */
  assign(t: number, e: Expr, rspOff: number): void {
    let o: number | undefined;
    if (e.tag === 'get' && e.off === rspOff && e.ty === Ty.I64) o = this.cur;
    else if (e.tag === 'binop' && e.ty === Ty.I64 && (e.op === 'Add' || e.op === 'Sub') && e.a.tag === 'tmp' && e.b.tag === 'const') {
      const base = this.offsets.get(e.a.t);
      const c = Number(BigInt.asIntN(64, e.b.v));
      if (base !== undefined && Math.abs(c) < MAX_OFFSET) o = e.op === 'Add' ? base + c : base - c;
    }
    if (o !== undefined && Math.abs(o) < MAX_OFFSET) this.offsets.set(t, o);
  }

  /** A memory access at original atom addr: ends the run unless the access is above its marking. */
  access(addr: Atom): void {
    if (this.run === undefined) return;
    const o = addr.tag === 'tmp' ? this.offsets.get(addr.t) : undefined;
    if (o === undefined || o < this.run.maxOff - REDZONE) this.flush();
  }

  /** A Put of rsp: value is the original atom, to its atom in the new block. */
  put(value: Atom, to: Atom): void {
    const o = value.tag === 'tmp' ? this.offsets.get(value.t) : undefined;
    const cur = this.cur;
    if (o === undefined || cur === undefined) {
      this.flush();
      this.emit(this.rspNow(), to);
      this.cur = undefined;
      return;
    }
    const dir = Math.sign(o - cur);
    if (dir === 0) return;
    const r = this.run;
    if (r !== undefined && dir === r.dir) {
      r.to = to;
      r.maxOff = Math.max(r.maxOff, o);
    } else {
      this.flush();
      this.run = { from: this.rspNow(), to, maxOff: Math.max(cur, o), dir };
    }
    this.cur = o;
  }

  /** A Put of rsp that needs no call of its own (a call's push, covered by the red zone): ends the run. */
  untracked(value: Atom): void {
    this.flush();
    this.cur = value.tag === 'tmp' ? this.offsets.get(value.t) : undefined;
  }

  /** Emits the pending run (before an exit, a helper call, an access it cannot clear, the block's end). */
  flush(): void {
    const r = this.take();
    if (r !== undefined) this.emit(r.from, r.to);
  }

  /** The pending run, left pending (a fast block's exit to the full translation emits it on that path only). */
  pending(): { from: Atom; to: Atom } | undefined {
    return this.run;
  }

  /** The pending run, for the caller to emit in a call of its own (a return's, with its red zone). */
  take(): { from: Atom; to: Atom } | undefined {
    const r = this.run;
    this.run = undefined;
    return r;
  }
}
