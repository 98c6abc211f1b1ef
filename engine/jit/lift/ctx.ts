/**
 * What an instruction's semantics see while it is lifted: its operands as IR values, registers,
 * memory, the lazy flags, and control flow. One LiftCtx lives for a whole block, so that the
 * flags thunk written by one instruction is known, as IR atoms, to the next (cond.ts uses that
 * to turn `cmp; jcc` into one comparison).
 *
 * Ordering rule: within an instruction every register write (Put) is deferred to the end of the
 * instruction, after its loads and stores. A memory fault therefore leaves the guest registers as
 * they were before the faulting instruction, which is what the engine needs to hand the
 * instruction to Unicorn (or report the fault) precisely. Reading a register that the same
 * instruction already wrote is a lifter bug and throws.
 */
import { ccOp, CcKind, CC_OP_COPY } from '../flags';
import { foldOrSimplify } from '../fold';
import { gprOff, OFF, xmmOff } from '../guest-state';
import { Atom, Const, IRBuilder, JumpKind, Ty, tyOfSize } from '../ir';
import { specialCond } from './cond';
import type { Insn, MemRef, Operand } from './decode';

/** The flags thunk as IR atoms (I64), plus what is known statically about it. */
export interface Thunk {
  readonly op: Atom;
  readonly dep1: Atom;
  readonly dep2: Atom;
  readonly ndep: Atom;
  /** The operation at its own width, when op is a constant: lets conditions be specialised. */
  readonly known?: { readonly kind: CcKind; readonly ty: Ty; readonly a: Atom; readonly b: Atom };
  /** The flags themselves (I64, RFLAGS positions), when op is COPY in this block. */
  readonly copy?: Atom;
}

/** Where the block goes after this instruction, when it is not the next instruction. */
export interface BlockEnd {
  readonly next: Atom;
  readonly jk: JumpKind;
}

export class LiftCtx {
  readonly b = new IRBuilder(foldOrSimplify);
  insn!: Insn;
  /** Set by a control transfer: the block ends after this instruction. */
  end: BlockEnd | undefined;
  private thunk: Thunk | undefined;
  private pending: { off: number; a: Atom }[] = [];
  private eaCache: Atom | undefined;

  /** Starts an instruction. */
  begin(insn: Insn): void {
    this.insn = insn;
    this.eaCache = undefined;
    this.b.imark(insn.addr, insn.len);
  }

  /** Ends an instruction: its deferred register writes take effect. */
  commit(): void {
    for (const p of this.pending) this.b.put(p.off, p.a);
    this.pending = [];
  }

  /** Address of the next instruction. */
  get nextAddr(): number {
    return this.insn.addr + this.insn.len;
  }

  c(ty: Ty, v: bigint | number): Const {
    return this.b.c(ty, v);
  }

  // ------------------------------------------------------------------------ guest state

  /** Reads guest state, refusing state this instruction already wrote. */
  get(off: number, ty: Ty): Atom {
    const end = off + (ty >> 3);
    for (const p of this.pending) {
      const pe = p.off + (this.b.ty(p.a) >> 3);
      if (p.off < end && off < pe) throw new Error(`lifter: ${this.insn.mnem} at 0x${this.insn.addr.toString(16)} reads state it wrote`);
    }
    return this.b.get(off, ty);
  }

  /** Writes guest state at the end of the instruction. */
  put(off: number, a: Atom): void {
    this.pending.push({ off, a });
  }

  /** Reads a general register at a byte size (hi8: ah/ch/dh/bh). */
  getGpr(reg: number, size: number, hi8 = false): Atom {
    return this.get(gprOff(reg) + (hi8 ? 1 : 0), tyOfSize(size));
  }

  /**
   * Writes a general register with x86-64's rules: 8- and 16-bit writes keep the other bits,
   * a 32-bit write zero-extends to 64.
   */
  putGpr(reg: number, v: Atom, hi8 = false): void {
    const ty = this.b.ty(v);
    if (ty === Ty.I32) this.put(gprOff(reg), this.b.conv('ZExt', Ty.I64, v));
    else this.put(gprOff(reg) + (hi8 ? 1 : 0), v);
  }

  getXmm(reg: number, ty = Ty.I128): Atom {
    return this.get(xmmOff(reg), ty);
  }

  /** Writes the low bytes of an xmm register (the rest is kept); I128 writes it whole. */
  putXmm(reg: number, v: Atom): void {
    this.put(xmmOff(reg), v);
  }

  // ----------------------------------------------------------------------------- memory

  /**
   * The address of a memory reference (I64), computed once per instruction; with withSegment
   * false, the offset alone (lea ignores segment overrides).
   */
  ea(m: MemRef, withSegment = true): Atom {
    if (this.eaCache && withSegment) return this.eaCache;
    const b = this.b;
    let a: Atom = m.rip ? this.c(Ty.I64, this.nextAddr + m.disp) : this.c(Ty.I64, m.disp);
    if (m.base >= 0) a = b.binop('Add', this.getGpr(m.base, 8), a);
    if (m.index >= 0) {
      const idx = this.getGpr(m.index, 8);
      a = b.binop('Add', a, m.scale === 1 ? idx : b.binop('Shl', idx, this.c(Ty.I8, Math.log2(m.scale))));
    }
    if (m.addr32) a = b.conv('ZExt', Ty.I64, b.conv('Narrow', Ty.I32, a));
    if (!withSegment) return a;
    if (m.seg) a = b.binop('Add', a, this.get(m.seg === 'fs' ? OFF.FS_BASE : OFF.GS_BASE, Ty.I64));
    this.eaCache = a;
    return a;
  }

  load(ty: Ty, addr: Atom): Atom {
    return this.b.load(ty, addr);
  }

  store(addr: Atom, v: Atom): void {
    this.b.store(addr, v);
  }

  // --------------------------------------------------------------------------- operands

  op(i: number): Operand {
    return this.insn.ops[i];
  }

  /** The IR type of operand i. */
  opTy(i: number): Ty {
    const o = this.insn.ops[i];
    return o.k === 'rel' ? Ty.I64 : tyOfSize(o.size);
  }

  /** The value of operand i at its size (a load for memory operands). */
  read(i: number): Atom {
    const o = this.insn.ops[i];
    switch (o.k) {
      case 'gpr': return this.getGpr(o.reg, o.size, o.hi8);
      case 'xmm': return this.getXmm(o.reg, tyOfSize(o.size));
      case 'mem': return this.load(tyOfSize(o.size), this.ea(o.m));
      case 'imm': return this.c(tyOfSize(o.size), o.value);
      case 'rel': return this.c(Ty.I64, o.target);
    }
  }

  /** Writes operand i (a store for memory operands; xmm writes narrower than 16 bytes merge). */
  write(i: number, v: Atom): void {
    const o = this.insn.ops[i];
    switch (o.k) {
      case 'gpr': this.putGpr(o.reg, v, o.hi8); return;
      case 'xmm': this.putXmm(o.reg, v); return;
      case 'mem': this.store(this.ea(o.m), v); return;
      default: throw new Error(`lifter: ${this.insn.mnem} writes an immediate`);
    }
  }

  /** Leaves with SIGSEGV when a 16-byte memory operand is not 16-aligned (legacy SSE rule). */
  checkAligned16(i: number): void {
    const o = this.insn.ops[i];
    if (o.k !== 'mem') return;
    const low = this.b.binop('And', this.ea(o.m), this.c(Ty.I64, 15));
    this.exitIf(this.b.binop('CmpNE', low, this.c(Ty.I64, 0)), this.insn.addr, 'SigSEGV');
  }

  // ------------------------------------------------------------------------------ flags

  /** The current thunk: known from this block, or read from guest state. */
  currentThunk(): Thunk {
    if (!this.thunk) {
      this.thunk = {
        op: this.get(OFF.CC_OP, Ty.I64), dep1: this.get(OFF.CC_DEP1, Ty.I64),
        dep2: this.get(OFF.CC_DEP2, Ty.I64), ndep: this.get(OFF.CC_NDEP, Ty.I64),
      };
    }
    return this.thunk;
  }

  /** Records flags of a kind at the width of dep1's type; dep2 and ndep default to 0. */
  setFlags(kind: CcKind, dep1: Atom, dep2?: Atom, ndep?: Atom): void {
    const b = this.b;
    const ty = b.ty(dep1);
    const z = this.c(Ty.I64, 0);
    const t: Thunk = {
      op: this.c(Ty.I64, ccOp(kind, ty)),
      dep1: b.resize(dep1, Ty.I64),
      dep2: dep2 ? b.resize(dep2, Ty.I64) : z,
      ndep: ndep ? b.resize(ndep, Ty.I64) : z,
      known: { kind, ty, a: dep1, b: dep2 ?? this.c(ty, 0) },
    };
    this.writeThunk(t);
  }

  /** Sets the flags to an explicit OSZAPC value (I64 in RFLAGS positions). */
  setFlagsCopy(flags: Atom): void {
    const z = this.c(Ty.I64, 0);
    const dep1 = this.b.resize(flags, Ty.I64);
    this.writeThunk({ op: this.c(Ty.I64, CC_OP_COPY), dep1, dep2: z, ndep: z, copy: dep1 });
  }

  /** Sets the thunk to `t` when cond holds, else keeps the current one (shifts by a zero count). */
  setFlagsIf(cond: Atom, t: () => void): void {
    if (cond.tag === 'const') {
      if (cond.v !== 0n) t();
      return;
    }
    const old = this.currentThunk();
    t();
    const nu = this.thunk!;
    const b = this.b;
    this.writeThunk({
      op: b.ite(cond, nu.op, old.op), dep1: b.ite(cond, nu.dep1, old.dep1),
      dep2: b.ite(cond, nu.dep2, old.dep2), ndep: b.ite(cond, nu.ndep, old.ndep),
    });
  }

  private writeThunk(t: Thunk): void {
    this.thunk = t;
    // Later puts of the same offsets replace earlier ones in program order.
    this.pending = this.pending.filter((p) => p.off < OFF.CC_OP || p.off > OFF.CC_NDEP);
    this.put(OFF.CC_OP, t.op);
    this.put(OFF.CC_DEP1, t.dep1);
    this.put(OFF.CC_DEP2, t.dep2);
    this.put(OFF.CC_NDEP, t.ndep);
  }

  /** Condition cc (0…15, x86 encoding) as an I1. */
  cond(cc: number): Atom {
    const t = this.currentThunk();
    return specialCond(this.b, cc, t)
      ?? this.b.ccall('amd64_cond', Ty.I1, [this.c(Ty.I64, cc), t.op, t.dep1, t.dep2, t.ndep]);
  }

  /** The carry flag as an I64 0/1. */
  carry(): Atom {
    const t = this.currentThunk();
    const sc = specialCond(this.b, 2, t);
    if (sc) return this.b.conv('ZExt', Ty.I64, sc);
    return this.b.ccall('amd64_carry', Ty.I64, [t.op, t.dep1, t.dep2, t.ndep]);
  }

  /** OSZAPC as an I64 in RFLAGS positions. */
  rflags(): Atom {
    const t = this.currentThunk();
    return this.b.ccall('amd64_rflags', Ty.I64, [t.op, t.dep1, t.dep2, t.ndep]);
  }

  // ------------------------------------------------------------------------ control flow

  /** Ends the block after this instruction, jumping to next (I64). */
  jump(next: Atom, jk: JumpKind = 'Boring'): void {
    this.end = { next, jk };
  }

  /** Leaves the block for dst when guard (I1) holds, before this instruction's register writes (traps that report the instruction). */
  exitIf(guard: Atom, dst: number, jk: JumpKind = 'Boring'): void {
    this.b.exit(guard, jk, dst);
  }

  /** Leaves the block for dst when guard holds, after this instruction's pending register writes. */
  exitAfter(guard: Atom, dst: number, jk: JumpKind = 'Boring'): void {
    this.commit();
    this.b.exit(guard, jk, dst);
  }
}
