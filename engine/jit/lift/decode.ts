/**
 * The x86-64 instruction decoder: legacy prefixes, REX, the opcode maps of tables.ts, ModRM, SIB,
 * displacements and immediates — all in this one place — producing an Insn whose operands are
 * resolved (register numbers, memory references, immediate values) for the semantics to use.
 */
import { EntrySpec, OperandSpec, parseEntry, sizeOf } from './operands';
import { MAPS, Slot } from './tables';

/** A memory reference: seg:[base + index*scale + disp], or [rip + disp] (disp from the next instruction). */
export interface MemRef {
  /** General register number, or -1. */
  readonly base: number;
  /** General register number, or -1. */
  readonly index: number;
  readonly scale: number;
  /** Sign-extended displacement (may be negative). */
  readonly disp: number;
  /** RIP-relative: the address is the next instruction's address + disp. */
  readonly rip: boolean;
  readonly seg: 'fs' | 'gs' | undefined;
  /** 67 prefix: the address is computed in 32 bits. */
  readonly addr32: boolean;
}

/** A resolved operand. Sizes are in bytes. */
export type Operand =
  | { readonly k: 'gpr'; readonly reg: number; readonly size: number; readonly hi8: boolean }
  | { readonly k: 'xmm'; readonly reg: number; readonly size: number }
  | { readonly k: 'mem'; readonly size: number; readonly m: MemRef }
  /** An immediate, sign-extended to 64 bits (as an unsigned BigInt); raw is the encoded bits. */
  | { readonly k: 'imm'; readonly size: number; readonly value: bigint; readonly raw: number }
  | { readonly k: 'rel'; readonly target: number };

export interface Insn {
  readonly addr: number;
  readonly len: number;
  readonly mnem: string;
  readonly spec: EntrySpec;
  /** 0 one-byte map, 1 0F, 2 0F38, 3 0F3A. */
  readonly map: number;
  readonly opcode: number;
  /** Effective operand size in bytes (2, 4 or 8). */
  readonly opsize: number;
  readonly ops: readonly Operand[];
  /** F3 (rep/repe) or F2 (repne) when not consumed as a mandatory prefix; else 0. */
  readonly rep: number;
  readonly lock: boolean;
  readonly rex: number;
  readonly rexW: boolean;
  /** The ModRM byte, or -1. */
  readonly modrm: number;
  /** Offset of the displacement within the instruction, or -1; its size in bytes (1 or 4). */
  readonly dispOffset: number;
  readonly dispSize: number;
}

/** Why decoding stopped: the bytes ran out, or no table slot covers the opcode. */
export type DecodeFailure = { readonly fail: 'truncated' | 'unknown'; readonly len?: number };

const MAX_LEN = 15;

class Truncated extends Error {}

/** A cursor over the instruction bytes. */
class Reader {
  pos = 0;
  constructor(readonly bytes: Uint8Array) {}
  u8(): number {
    if (this.pos >= this.bytes.length || this.pos >= MAX_LEN) throw new Truncated();
    return this.bytes[this.pos++];
  }
  peek(): number {
    if (this.pos >= this.bytes.length) throw new Truncated();
    return this.bytes[this.pos];
  }
  /** A little-endian signed integer of n bytes (1, 2, 4). */
  signed(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v += this.u8() * 2 ** (8 * i);
    const lim = 2 ** (8 * n - 1);
    return v >= lim ? v - 2 * lim : v;
  }
  /** A little-endian unsigned BigInt of n bytes. */
  unsigned(n: number): bigint {
    let v = 0n;
    for (let i = 0; i < n; i++) v |= BigInt(this.u8()) << BigInt(8 * i);
    return v;
  }
}

const parsed = new Map<string, EntrySpec>();
function entryOf(text: string, inGroup: boolean): EntrySpec {
  const key = `${inGroup ? 'g' : ''}${text}`;
  let e = parsed.get(key);
  if (!e) parsed.set(key, (e = parseEntry(text, inGroup)));
  return e;
}

interface Prefixes {
  osz: boolean;
  asz: boolean;
  rep: number;
  lock: boolean;
  seg: 'fs' | 'gs' | undefined;
  rex: number;
}

/**
 * Resolves a table slot down to an entry string, reading the ModRM byte when a group or a
 * register/memory choice needs it. Returns the entry, whether it came through a group (which
 * implies a ModRM byte) and whether a mandatory prefix was consumed.
 */
function resolve(slot: Slot | undefined, p: Prefixes, r: Reader, st: { modrm: number; mandatory: boolean; inGroup: boolean }): string | undefined {
  let s = slot;
  while (s !== undefined && typeof s !== 'string') {
    if ('pfx' in s) {
      const key = p.rep === 0xf2 ? 'f2' : p.rep === 0xf3 ? 'f3' : p.osz ? 'p66' : 'none';
      s = s.pfx[key];
      if (key !== 'none') st.mandatory = true;
    } else if ('grp' in s) {
      if (st.modrm < 0) st.modrm = r.u8();
      st.inGroup = true;
      s = s.grp[(st.modrm >> 3) & 7];
    } else {
      if (st.modrm < 0) st.modrm = r.u8();
      s = (st.modrm >> 6) === 3 ? s.mod3 : s.mem;
    }
  }
  return s;
}

/** Decodes one instruction from bytes (bytes[0] is at guest address addr). */
export function decode(bytes: Uint8Array, addr: number): Insn | DecodeFailure {
  const r = new Reader(bytes);
  try {
    return decodeInner(r, addr);
  } catch (e) {
    if (e instanceof Truncated) return { fail: 'truncated' };
    throw e;
  }
}

function decodeInner(r: Reader, addr: number): Insn | DecodeFailure {
  const p: Prefixes = { osz: false, asz: false, rep: 0, lock: false, seg: undefined, rex: 0 };
  for (;;) {
    const b = r.peek();
    if (b === 0x66) p.osz = true;
    else if (b === 0x67) p.asz = true;
    else if (b === 0xf2 || b === 0xf3) p.rep = b;
    else if (b === 0xf0) p.lock = true;
    else if (b === 0x64) p.seg = 'fs';
    else if (b === 0x65) p.seg = 'gs';
    else if (b === 0x2e || b === 0x36 || b === 0x3e || b === 0x26) { /* ignored in 64-bit mode */ }
    else break;
    r.u8();
  }
  // REX counts only directly before the opcode.
  if ((r.peek() & 0xf0) === 0x40) p.rex = r.u8();
  let map = 0;
  let opcode = r.u8();
  if (opcode === 0x0f) {
    opcode = r.u8();
    map = 1;
    if (opcode === 0x38 || opcode === 0x3a) {
      map = opcode === 0x38 ? 2 : 3;
      opcode = r.u8();
    }
  }
  const st = { modrm: -1, mandatory: false, inGroup: false };
  const text = resolve(MAPS[map][opcode], p, r, st);
  if (text === undefined) return { fail: 'unknown', len: r.pos };
  const spec = entryOf(text, st.inGroup);
  const rexW = (p.rex & 8) !== 0;
  const osz = p.osz && !st.mandatory;
  const opsize = spec.flags.f64 || rexW ? 8 : spec.flags.d64 ? (osz ? 2 : 8) : osz ? 2 : 4;
  if (spec.modrm && st.modrm < 0) st.modrm = r.u8();

  const ctx: OperandCtx = { r, p, rexW, opsize, modrm: st.modrm, mem: undefined, dispOffset: -1, dispSize: 0, opcode };
  if (spec.modrm && (st.modrm >> 6) !== 3) readMem(ctx);
  const ops: Operand[] = [];
  for (const o of spec.ops) {
    const op = operand(o, ctx, ops);
    if (!op) return { fail: 'unknown', len: r.pos };
    ops.push(op);
  }
  const len = r.pos;
  // Relative targets are known only once the length is.
  const fixed = ops.map((o) => (o.k === 'rel' ? { k: 'rel' as const, target: addr + len + o.target } : o));
  return {
    addr, len, mnem: spec.mnem, spec, map, opcode, opsize, ops: fixed,
    rep: st.mandatory ? 0 : p.rep, lock: p.lock, rex: p.rex, rexW, modrm: st.modrm,
    dispOffset: ctx.dispOffset, dispSize: ctx.dispSize,
  };
}

interface OperandCtx {
  r: Reader;
  p: Prefixes;
  rexW: boolean;
  opsize: number;
  modrm: number;
  mem: MemRef | undefined;
  dispOffset: number;
  dispSize: number;
  opcode: number;
}

/** Reads SIB and displacement for a memory ModRM. */
function readMem(c: OperandCtx): void {
  const { r, p } = c;
  const mod = c.modrm >> 6;
  const rm = c.modrm & 7;
  const rexB = (p.rex & 1) << 3;
  const rexX = (p.rex & 2) << 2;
  let base = -1;
  let index = -1;
  let scale = 1;
  let rip = false;
  if (rm === 4) {
    const sib = r.u8();
    scale = 1 << (sib >> 6);
    const idx = ((sib >> 3) & 7) | rexX;
    if (idx !== 4) index = idx;
    const b = sib & 7;
    if (b === 5 && mod === 0) {
      c.dispOffset = r.pos;
      c.dispSize = 4;
      const disp = r.signed(4);
      c.mem = { base: -1, index, scale, disp, rip: false, seg: p.seg, addr32: p.asz };
      return;
    }
    base = b | rexB;
  } else if (rm === 5 && mod === 0) {
    rip = true;
  } else {
    base = rm | rexB;
  }
  let disp = 0;
  const n = mod === 0 && rip ? 4 : mod === 1 ? 1 : mod === 2 ? 4 : 0;
  if (n) {
    c.dispOffset = r.pos;
    c.dispSize = n;
    disp = r.signed(n);
  }
  c.mem = { base, index, scale, disp, rip, seg: p.seg, addr32: p.asz };
}

const gpr = (reg: number, size: number, rex: number): Operand =>
  ({ k: 'gpr', reg: size === 1 && rex === 0 && reg >= 4 && reg < 8 ? reg - 4 : reg, size, hi8: size === 1 && rex === 0 && reg >= 4 && reg < 8 });

/** Resolves one operand spec; undefined when the encoding is invalid for it (e.g. a register where memory is required). */
function operand(o: OperandSpec, c: OperandCtx, prev: readonly Operand[]): Operand | undefined {
  const { p, rexW, opsize } = c;
  const size = sizeOf(o.size, opsize, rexW);
  const regField = ((c.modrm >> 3) & 7) | ((p.rex & 4) << 1);
  const rmField = (c.modrm & 7) | ((p.rex & 1) << 3);
  const isReg = (c.modrm >> 6) === 3;
  switch (o.method) {
    case 'G': return gpr(regField, size, p.rex);
    case 'V': return { k: 'xmm', reg: regField, size };
    case 'E': return isReg ? gpr(rmField, size, p.rex) : { k: 'mem', size, m: c.mem! };
    case 'R': return isReg ? gpr(rmField, size, p.rex) : undefined;
    case 'M': return isReg ? undefined : { k: 'mem', size, m: c.mem! };
    case 'W': return isReg ? { k: 'xmm', reg: rmField, size } : { k: 'mem', size, m: c.mem! };
    case 'U': return isReg ? { k: 'xmm', reg: rmField, size } : undefined;
    case 'Z': return gpr((c.opcode & 7) | ((p.rex & 1) << 3), size, p.rex);
    case 'fixed': return gpr(o.reg!, size, p.rex);
    case 'one': return { k: 'imm', size: 1, value: 1n, raw: 1 };
    case 'O': {
      const a = c.r.unsigned(p.asz ? 4 : 8);
      return { k: 'mem', size, m: { base: -1, index: -1, scale: 1, disp: Number(a), rip: false, seg: p.seg, addr32: false } };
    }
    case 'I': {
      // Iv is a full 64-bit immediate only for mov r64, imm64; otherwise immediates are at most 32 bits.
      const n = o.size === 'v' ? size : o.size === 'z' ? Math.min(size, 4) : size;
      const raw = c.r.unsigned(n);
      const value = BigInt.asUintN(64, BigInt.asIntN(8 * n, raw));
      // The immediate's width is that of the operand it combines with (the first), else its own.
      const dst = prev[0];
      const width = dst && (dst.k === 'gpr' || dst.k === 'mem') ? dst.size : n;
      return { k: 'imm', size: width, value, raw: Number(raw) };
    }
    case 'J': {
      const n = o.size === 'b' ? 1 : 4;
      return { k: 'rel', target: c.r.signed(n) };
    }
  }
}

/** Whether a decode result is a failure. */
export const isFailure = (d: Insn | DecodeFailure): d is DecodeFailure => 'fail' in d;
