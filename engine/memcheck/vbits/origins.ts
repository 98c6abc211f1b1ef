/**
 * Origin tracking for the memcheck pass (`--track-origins=yes`; mc_translate.c's schemeE and
 * schemeS, rewritten): beside its V bits, every value gets an origin tag (otag, 0 = none) saying
 * where its undefined bits were created, so a report can name the allocation.
 *
 * - An otag is a 32-bit number carried in an I64 (OTAG_TY): the guest-state slots are 8 bytes
 *   and I64 values are what the generated code handles natively (BigUint64Array elements). An
 *   I32 otag costs a BigInt↔Number conversion at every Get and Put; measured on a loop with a
 *   load and a store, I64 otags made instrumented code ~1.5× faster.
 * - Operations: the unsigned max of the operands' otags (memcheck's Max32U merge), built from
 *   CmpLTU + ITE because the IR has no max. An ITE steers the otags like its V bits.
 * - A value whose V bits fold to a defined constant has otag 0 and costs no code; so do operands
 *   that are such values (max(x, 0) is x).
 * - Guest state: the otag slot of a register (guest-state.ts, originSlots), read by a Get and
 *   written by a Put. A Put of part of a slot (al, ax, an xmm half) keeps the rest's tag: it
 *   writes max(old, new), and nothing at all when the new part is defined by construction.
 * - Memory: a load asks `mc_loado(addr, size) → otag` only when the loaded V bits have an
 *   undefined bit (a guarded call: a defined load costs a compare and gets 0); a store calls
 *   `mc_storeo(addr, size, otag)` only when the stored V bits have an undefined bit. Memcheck
 *   calls its origin-store helper on every store (gen_store_b); here a defined store costs no
 *   call (measured 1.3–1.9× faster on a loop with one store per six instructions). Its old tag
 *   stays in OriginMemory but no load can see it: the bytes are defined, so loads of them do not
 *   ask, and whatever makes them undefined again (an undefined store, malloc, a stack
 *   allocation, a copy) writes a new tag. An engine that wants the word cleared anyway can do it
 *   in mc_storev when the V bits are 0, at no extra call.
 * - Checks pass the otag of the value complained about (instrument.ts).
 */
import { Shadow } from './combinators';
import { originSlots } from '../../jit/guest-state';
import { pureHelper } from '../../jit/helpers';
import { Atom, Expr, IRBuilder, Ty, tyBytes } from '../../jit/ir';

/** The origin helpers the instrumented code calls (signatures in instrument.ts). */
export const MC_ORIGIN_DIRTY = {
  /** (addr, size) → the otag of the loaded bytes; called when some loaded bit is undefined. */
  loadO: 'mc_loado',
  /** (addr, size, otag): tags the stored bytes; called when some stored bit is undefined. */
  storeO: 'mc_storeo',
} as const;

/** What the pass needs from the V-bit instrumenter: original atoms seen in the new block. */
export interface OriginHost {
  /** The new block's atom for an original atom. */
  O(a: Atom): Atom;
  /** The V bits of an original atom. */
  V(a: Atom): Atom;
  /** The type of an original atom. */
  ty(a: Atom): Ty;
}

/** The IR type of an otag (see the file comment). */
export const OTAG_TY = Ty.I64;
const NONE: Atom = { tag: 'const', ty: OTAG_TY, v: 0n };
const isZero = (a: Atom): boolean => a.tag === 'const' && a.v === 0n;

/** The otags of one block being instrumented. */
export class OriginPass {
  /** Original temporary → its otag (absent: 0). */
  private readonly otags = new Map<number, Atom>();

  constructor(private readonly b: IRBuilder, private readonly sh: Shadow, private readonly h: OriginHost) {}

  /** The otag of an original atom. */
  B(a: Atom): Atom {
    return a.tag === 'const' ? NONE : this.otags.get(a.t) ?? NONE;
  }

  /** Drops a temporary's otag: it was complained about and counts as defined from now on. */
  forget(t: number): void {
    this.otags.delete(t);
  }

  /** Gives temporary t = e its otag, e's V bits being v (already emitted). */
  assign(t: number, e: Expr, v: Atom): void {
    // Defined by construction: no origin, no code.
    if (v.tag === 'const' && v.v === 0n) return;
    const ot = this.exprOtag(e, v);
    if (!isZero(ot)) this.otags.set(t, ot);
  }

  /** Gives the result t of a guest dirty call (cpuid, rdtsc) the max of its arguments' otags. */
  assignCall(t: number, args: readonly Atom[], v: Atom): void {
    if (v.tag === 'const' && v.v === 0n) return;
    const ot = this.maxOf(args.map((a) => this.B(a)));
    if (!isZero(ot)) this.otags.set(t, ot);
  }

  /** Shadows a Put of original atom a at guest state offset off. */
  put(off: number, a: Atom): void {
    const { b } = this;
    const ot = this.B(a);
    for (const s of originSlots(off, tyBytes(this.h.ty(a)))) {
      if (s.full) b.put(s.off, ot);
      else if (!isZero(ot)) b.put(s.off, this.max(b.get(s.off, OTAG_TY), ot));
    }
  }

  /** Shadows a Store: tags the bytes with the data's otag when the data has undefined bits. */
  store(addr: Atom, data: Atom): void {
    const v = this.h.V(data);
    if (v.tag === 'const' && v.v === 0n) return;
    const { b } = this;
    const size = b.c(Ty.I64, tyBytes(this.h.ty(data)));
    b.dirty(MC_ORIGIN_DIRTY.storeO, [this.h.O(addr), size, this.B(data)], undefined, this.sh.pcast(v, Ty.I1));
  }

  private exprOtag(e: Expr, v: Atom): Atom {
    const { b } = this;
    const B = (a: Atom): Atom => this.B(a);
    switch (e.tag) {
      case 'tmp': case 'const': return B(e);
      case 'get': return this.maxOf(originSlots(e.off, tyBytes(e.ty)).map((s) => b.get(s.off, OTAG_TY)));
      case 'load':
        // Only undefined bytes have an origin worth a call.
        return b.dirty(MC_ORIGIN_DIRTY.loadO, [this.h.O(e.addr), b.c(Ty.I64, tyBytes(e.ty))], OTAG_TY, this.sh.pcast(v, Ty.I1))!;
      case 'unop': case 'conv': return B(e.a);
      case 'binop': return this.max(B(e.a), B(e.b));
      case 'ite': {
        const ot = B(e.t);
        const of = B(e.f);
        const steered = sameAtom(ot, of) ? ot : b.ite(this.h.O(e.cond), ot, of);
        return this.max(B(e.cond), steered);
      }
      case 'ccall': {
        // As for the V bits: arguments the lifter makes from constants carry no origin.
        const mask = pureHelper(e.fn).mcxMask;
        return this.maxOf(e.args.filter((_, i) => !mask.includes(i)).map(B));
      }
    }
  }

  private maxOf(xs: readonly Atom[]): Atom {
    return xs.reduce((m, x) => this.max(m, x), NONE);
  }

  /** Unsigned max of two otags, folding the cases known at translation time. */
  private max(x: Atom, y: Atom): Atom {
    if (isZero(x) || sameAtom(x, y)) return y;
    if (isZero(y)) return x;
    if (x.tag === 'const' && y.tag === 'const') return x.v > y.v ? x : y;
    const { b } = this;
    return b.ite(b.binop('CmpLTU', x, y), y, x);
  }
}

const sameAtom = (a: Atom, b: Atom): boolean =>
  a.tag === 'tmp' ? b.tag === 'tmp' && a.t === b.t : b.tag === 'const' && a.v === b.v;
