/**
 * unigrind's intermediate representation: a small, typed, flat IR in the manner of Valgrind's VEX.
 *
 * A superblock (IRSB) is a list of statements over typed temporaries, each temporary assigned
 * exactly once (SSA within the block). Expressions are flat: every operand of an operation is an
 * atom (a temporary or a constant), so an instrumentation pass can shadow each operation with
 * one rule and a code generator can print each statement as one line of JS.
 *
 * Values: every integer of any width (I1…I128) is an unsigned, canonical BigInt (0 ≤ v < 2^w).
 * V8 lowers `BigInt.asUintN(64, a + b)` on BigUint64Array elements to machine arithmetic, so
 * this costs nothing against 32-bit pairs in optimised code (measured: engine/jit/README.md)
 * and keeps one representation for the interpreter, the code generator and the shadow values.
 *
 * Guest state is one ArrayBuffer addressed by byte offset (engine/jit/guest-state.ts); a Get or
 * Put names an offset and takes its width from its type, so partial registers (al, ah, ax) are
 * simply narrower accesses at the right offset.
 */

/** Types, by width in bits (I1 is a boolean: a condition). */
export enum Ty { I1 = 1, I8 = 8, I16 = 16, I32 = 32, I64 = 64, I128 = 128 }

/** Width in bytes of a type (I1 counts as one byte when stored). */
export const tyBytes = (ty: Ty): number => (ty === Ty.I1 ? 1 : ty >> 3);

/** The integer type of a byte size (1, 2, 4, 8, 16). */
export function tyOfSize(bytes: number): Ty {
  switch (bytes) {
    case 1: return Ty.I8;
    case 2: return Ty.I16;
    case 4: return Ty.I32;
    case 8: return Ty.I64;
    case 16: return Ty.I128;
    default: throw new Error(`no IR type of ${bytes} bytes`);
  }
}

/** All-ones of a type. */
export const tyMask = (ty: Ty): bigint => (1n << BigInt(ty)) - 1n;

// ------------------------------------------------------------------------------------ atoms

/** A temporary, by number (its type is in the block's tyenv). */
export interface RdTmp { readonly tag: 'tmp'; readonly t: number }
/** A constant of a type; v is canonical (0 ≤ v < 2^ty). */
export interface Const { readonly tag: 'const'; readonly ty: Ty; readonly v: bigint }
/** The operands of every operation. */
export type Atom = RdTmp | Const;

export const rdTmp = (t: number): RdTmp => ({ tag: 'tmp', t });
export const mkConst = (ty: Ty, v: bigint | number): Const => ({ tag: 'const', ty, v: BigInt.asUintN(ty, BigInt(v)) });
export const isConst = (a: Atom): a is Const => a.tag === 'const';

// ------------------------------------------------------------------------------- operations

/**
 * Unary operations whose result has the operand's type. Not/Neg are bitwise/arithmetic; Clz/Ctz
 * count zero bits (defined for a zero operand as the width); Bswap reverses bytes; Popcnt counts
 * one bits.
 */
export type UnopSame = 'Not' | 'Neg' | 'Clz' | 'Ctz' | 'Bswap' | 'Popcnt' | 'SqrtF64' | 'SqrtF32';

/**
 * Conversions between types. ZExt/SExt widen, Narrow keeps the low bits, NarrowHi the high bits.
 * Float conversions work on IEEE bit patterns (F64 in an I64, F32 in an I32); `_Z` truncates
 * toward zero, `_N` rounds to nearest even; an out-of-range or NaN source gives x86's "integer
 * indefinite" (the most negative integer). GetMSBs8x16 gathers the sign bits of 16 bytes
 * (pmovmskb). I1 is also the target of CmpNEZ-like narrowing through Narrow to I1 (low bit).
 */
export type Conv =
  | 'ZExt' | 'SExt' | 'Narrow' | 'NarrowHi'
  | 'I32StoF64' | 'I64StoF64' | 'I32StoF32' | 'I64StoF32' | 'F32toF64' | 'F64toF32'
  | 'F64toI32S_Z' | 'F64toI64S_Z' | 'F64toI32S_N' | 'F64toI64S_N'
  | 'F32toI32S_Z' | 'F32toI64S_Z' | 'F32toI32S_N' | 'F32toI64S_N'
  | 'GetMSBs8x16';

/** Binary operations whose operands and result share one type (the op's `ty`). */
export type BinopSame =
  | 'Add' | 'Sub' | 'Mul' | 'MulHiU' | 'MulHiS' | 'And' | 'Or' | 'Xor'
  // Floating point on bit patterns (ty I64 = double, I32 = float); round to nearest.
  | 'AddF' | 'SubF' | 'MulF' | 'DivF' | 'MinF' | 'MaxF'
  // 128-bit SIMD, lane-wise (ty I128).
  | 'Add8x16' | 'Add16x8' | 'Add32x4' | 'Add64x2' | 'Sub8x16' | 'Sub16x8' | 'Sub32x4' | 'Sub64x2'
  | 'QAdd8Ux16' | 'QSub8Ux16' | 'Min8Ux16' | 'Max8Ux16'
  | 'CmpEQ8x16' | 'CmpEQ16x8' | 'CmpEQ32x4' | 'CmpEQ64x2' | 'CmpGT8Sx16' | 'CmpGT16Sx8' | 'CmpGT32Sx4'
  | 'InterleaveLO8x16' | 'InterleaveLO16x8' | 'InterleaveLO32x4' | 'InterleaveLO64x2'
  | 'InterleaveHI8x16' | 'InterleaveHI16x8' | 'InterleaveHI32x4' | 'InterleaveHI64x2'
  | 'Mul32x4' | 'MullEven32Ux4';

/** Shifts: `a` has the op's type, the amount `b` is an I8; amounts ≥ the width give 0 (Sar: the sign). */
export type Shift = 'Shl' | 'Shr' | 'Sar' | 'ShlN16x8' | 'ShlN32x4' | 'ShlN64x2' | 'ShrN16x8' | 'ShrN32x4'
  | 'ShrN64x2' | 'SarN16x8' | 'SarN32x4' | 'ShlBytes128' | 'ShrBytes128';

/** Comparisons of two values of the op's type, giving I1. CmpF gives x86's ZF|PF|CF pattern (I32). */
export type Cmp = 'CmpEQ' | 'CmpNE' | 'CmpLTU' | 'CmpLTS' | 'CmpLEU' | 'CmpLES';

/**
 * Other binary operations with their own signatures:
 * - DivModU/DivModS: a is twice the op's width, b the op's width; result twice the width with
 *   the quotient in the low half and the remainder in the high half (x86 div/idiv, VEX's
 *   DivModU128to64). The caller must have excluded a zero divisor and quotient overflow.
 * - CmpF: two floats of the op's type (I64 double, I32 float) → I32 holding x86's flags after
 *   ucomisd: unordered 0x45, less 0x01, equal 0x40, greater 0.
 * - HL: concatenation, a high and b low, each of the op's type → twice the width.
 * - Perm32x4: a I128 permuted by the immediate b (I8) (pshufd).
 */
export type BinopOther = 'DivModU' | 'DivModS' | 'CmpF' | 'HL' | 'Perm32x4' | 'PermLo16x4' | 'PermHi16x4';

export type Binop = BinopSame | Shift | Cmp | BinopOther;

// ------------------------------------------------------------------------------ expressions

/** Reads guest state: `ty` bits at byte offset `off`. */
export interface Get { readonly tag: 'get'; readonly off: number; readonly ty: Ty }
/** Loads `ty` bits from guest memory at an I64 address (little-endian). */
export interface Load { readonly tag: 'load'; readonly ty: Ty; readonly addr: Atom }
/** A same-type unary operation. */
export interface Unop { readonly tag: 'unop'; readonly op: UnopSame; readonly ty: Ty; readonly a: Atom }
/** A conversion from type `from` to type `to`. */
export interface Convert { readonly tag: 'conv'; readonly op: Conv; readonly from: Ty; readonly to: Ty; readonly a: Atom }
/** A binary operation; `ty` is its operand type (see each group's signature). */
export interface BinopE { readonly tag: 'binop'; readonly op: Binop; readonly ty: Ty; readonly a: Atom; readonly b: Atom }
/** If-then-else on an I1: the triop of the IR. */
export interface Ite { readonly tag: 'ite'; readonly cond: Atom; readonly t: Atom; readonly f: Atom }
/**
 * A call of a pure helper (no side effects, reads only its arguments) registered in
 * engine/jit/helpers.ts: flag computation from the lazy thunk, mainly.
 */
export interface CCall { readonly tag: 'ccall'; readonly fn: string; readonly ty: Ty; readonly args: readonly Atom[] }

export type Expr = Atom | Get | Load | Unop | Convert | BinopE | Ite | CCall;

// ------------------------------------------------------------------------------- statements

/** Marks the start of a guest instruction: its address and length. */
export interface IMark { readonly tag: 'imark'; readonly addr: number; readonly len: number }
/** Assigns a temporary (once). */
export interface WrTmp { readonly tag: 'wrtmp'; readonly t: number; readonly e: Expr }
/** Writes guest state at byte offset `off`, as wide as the atom's type. */
export interface Put { readonly tag: 'put'; readonly off: number; readonly a: Atom }
/** Stores to guest memory at an I64 address, as wide as the data's type. */
export interface Store { readonly tag: 'store'; readonly addr: Atom; readonly data: Atom }
/** Leaves the block for guest address `dst` when the I1 guard is 1. */
export interface Exit { readonly tag: 'exit'; readonly guard: Atom; readonly jk: JumpKind; readonly dst: number }
/**
 * Calls a helper with side effects (or one that needs the environment: cpuid, rdtsc, and the
 * checks and shadow memory accesses that tools add), only when `guard` (I1) is 1 if present.
 * Its result, if any, goes to temporary `t` of type `ty` (0 when the guard is false).
 */
export interface Dirty {
  readonly tag: 'dirty';
  readonly fn: string;
  readonly args: readonly Atom[];
  readonly guard?: Atom;
  readonly t?: number;
  readonly ty?: Ty;
}

export type Stmt = IMark | WrTmp | Put | Store | Exit | Dirty;

/**
 * How control leaves a block (VEX's IRJumpKind): a plain jump, a call or return (hints for stack
 * tracking and chaining), a system call to emulate before continuing at the target, an
 * instruction the lifter does not cover (the engine runs it on Unicorn at the target address),
 * and the traps: int3 (SigTRAP, the target is the next instruction), ud2 (SigILL), a divide
 * error (SigFPE) and a misaligned SSE access (SigSEGV), whose target is the trapping instruction.
 */
export type JumpKind = 'Boring' | 'Call' | 'Ret' | 'Syscall' | 'NoDecode' | 'SigTRAP' | 'SigILL' | 'SigFPE' | 'SigSEGV'
  // A tool's fast translation met a value it does not handle: run this instruction and what
  // follows on the tool's full translation (the dispatcher does; the state is as before it).
  // One to the block's own start is an entry check that the block's own run cannot make fail:
  // a compiled self-loop makes it once.
  | 'SlowPath';

/** A superblock: one entry, side exits, and a final jump to `next`. */
export interface IRSB {
  /** Guest address of the first instruction. */
  readonly addr: number;
  /** Type of each temporary, by number. */
  readonly tyenv: Ty[];
  readonly stmts: Stmt[];
  /** The guest address after the block (I64). */
  next: Atom;
  jk: JumpKind;
  /** Number of guest instructions lifted (IMarks). */
  insns: number;
  /**
   * Bytes of guest code at addr the block was lifted from, up to its first chased jump: the
   * other ranges of a block that chased (lift.ts) are those of its IMarks (codeExtents).
   */
  len: number;
}

/** The operands of an expression. */
export function exprAtoms(e: Expr): Atom[] {
  switch (e.tag) {
    case 'tmp': case 'const': return [e];
    case 'get': return [];
    case 'load': return [e.addr];
    case 'unop': case 'conv': return [e.a];
    case 'binop': return [e.a, e.b];
    case 'ite': return [e.cond, e.t, e.f];
    case 'ccall': return e.args.slice();
  }
}

/** The type of an atom in a block. */
export function atomTy(tyenv: readonly Ty[], a: Atom): Ty {
  return a.tag === 'const' ? a.ty : tyenv[a.t];
}

/** Result type of a binop whose operand type is ty. */
export function binopResultTy(op: Binop, ty: Ty): Ty {
  switch (op) {
    case 'CmpEQ': case 'CmpNE': case 'CmpLTU': case 'CmpLTS': case 'CmpLEU': case 'CmpLES':
      return Ty.I1;
    case 'CmpF':
      return Ty.I32;
    case 'DivModU': case 'DivModS': case 'HL':
      return (ty * 2) as Ty;
    default:
      return ty;
  }
}

/** The type of an expression. */
export function exprTy(tyenv: readonly Ty[], e: Expr): Ty {
  switch (e.tag) {
    case 'tmp': return tyenv[e.t];
    case 'const': return e.ty;
    case 'get': case 'load': case 'unop': case 'ccall': return e.ty;
    case 'conv': return e.to;
    case 'binop': return binopResultTy(e.op, e.ty);
    case 'ite': return atomTy(tyenv, e.t);
  }
}

// ------------------------------------------------------------------------------------ builder

/**
 * Builds a block in flat form: every operation is assigned to a fresh temporary and its result
 * handed back as an atom. Operations on constants fold at once (through `fold`, supplied by the
 * evaluator so that there is one definition of every operation), and identities such as x+0
 * or x^x simplify to an operand or a constant.
 */
export class IRBuilder {
  readonly tyenv: Ty[] = [];
  readonly stmts: Stmt[] = [];

  constructor(private readonly fold?: (e: Expr, tyenv: readonly Ty[]) => Atom | undefined) {}

  /** A new temporary of type ty (unassigned). */
  newTmp(ty: Ty): number {
    this.tyenv.push(ty);
    return this.tyenv.length - 1;
  }

  /** The type of an atom. */
  ty(a: Atom): Ty {
    return atomTy(this.tyenv, a);
  }

  /** Assigns e to a new temporary (or folds it to a constant) and returns the atom. */
  assign(e: Expr): Atom {
    if (e.tag === 'tmp' || e.tag === 'const') return e;
    const folded = this.fold?.(e, this.tyenv);
    if (folded) return folded;
    const t = this.newTmp(exprTy(this.tyenv, e));
    this.stmts.push({ tag: 'wrtmp', t, e });
    return rdTmp(t);
  }

  c(ty: Ty, v: bigint | number): Const {
    return mkConst(ty, v);
  }

  get(off: number, ty: Ty): Atom {
    return this.assign({ tag: 'get', off, ty });
  }

  load(ty: Ty, addr: Atom): Atom {
    return this.assign({ tag: 'load', ty, addr });
  }

  unop(op: UnopSame, a: Atom): Atom {
    return this.assign({ tag: 'unop', op, ty: this.ty(a), a });
  }

  conv(op: Conv, to: Ty, a: Atom): Atom {
    const from = this.ty(a);
    if ((op === 'ZExt' || op === 'SExt' || op === 'Narrow') && from === to) return a;
    return this.assign({ tag: 'conv', op, from, to, a });
  }

  /** Zero-extends or narrows a to type to. */
  resize(a: Atom, to: Ty): Atom {
    const from = this.ty(a);
    return from === to ? a : this.conv(from < to ? 'ZExt' : 'Narrow', to, a);
  }

  /** A binary operation; its type is a's (b's for DivMod*, whose a is twice as wide). */
  binop(op: Binop, a: Atom, b: Atom): Atom {
    const ty = op === 'DivModU' || op === 'DivModS' ? this.ty(b) : this.ty(a);
    return this.assign({ tag: 'binop', op, ty, a, b });
  }

  ite(cond: Atom, t: Atom, f: Atom): Atom {
    if (cond.tag === 'const') return cond.v !== 0n ? t : f;
    return this.assign({ tag: 'ite', cond, t, f });
  }

  ccall(fn: string, ty: Ty, args: Atom[]): Atom {
    return this.assign({ tag: 'ccall', fn, ty, args });
  }

  imark(addr: number, len: number): void {
    this.stmts.push({ tag: 'imark', addr, len });
  }

  put(off: number, a: Atom): void {
    this.stmts.push({ tag: 'put', off, a });
  }

  store(addr: Atom, data: Atom): void {
    this.stmts.push({ tag: 'store', addr, data });
  }

  exit(guard: Atom, jk: JumpKind, dst: number): void {
    if (guard.tag === 'const' && guard.v === 0n) return;
    this.stmts.push({ tag: 'exit', guard, jk, dst });
  }

  dirty(fn: string, args: Atom[], ret?: Ty, guard?: Atom): Atom | undefined {
    const t = ret === undefined ? undefined : this.newTmp(ret);
    this.stmts.push({ tag: 'dirty', fn, args, guard, t, ty: ret });
    return t === undefined ? undefined : rdTmp(t);
  }

  /** Closes the block. */
  finish(addr: number, next: Atom, jk: JumpKind, insns: number, len: number): IRSB {
    return { addr, tyenv: this.tyenv, stmts: this.stmts, next, jk, insns, len };
  }
}
