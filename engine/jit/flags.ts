/**
 * Lazy arithmetic flags, as VEX keeps them: an instruction that sets flags records what it did —
 * an operation kind and width in CC_OP and its operands in CC_DEP1/CC_DEP2/CC_NDEP — and the
 * flags are computed only when something reads them.
 *
 * Why lazy rather than exact: most flag results are overwritten by the next flag-setting
 * instruction before anything reads them, so computing six flags per add/sub/cmp would be mostly
 * dead work; the thunk costs four stores. The common reader (a jcc/setcc/cmov right after a
 * cmp/test/sub in the same block) is specialised at lift time into a single comparison of the
 * operands (lift/cond.ts), which is also what gives memcheck exact definedness for `cmp; jcc`
 * (VEX reaches the same through its guest_amd64_spechelper). Only flags that cross a block
 * boundary go through the generic helpers here.
 *
 * Thunk meanings (w = operand width):
 *   COPY      dep1 = the flags themselves, in their RFLAGS positions
 *   ADD/SUB   dep1 = left operand, dep2 = right operand
 *   ADC/SBB   dep1, dep2 as for ADD/SUB, ndep = carry in (0/1)
 *   LOGIC     dep1 = result (OF = CF = 0, AF = 0)
 *   INC/DEC   dep1 = result, ndep = the previous CF (0/1), which they preserve
 *   SHL/SHR   dep1 = result, dep2 = the operand shifted by count-1 (CF is its last bit out);
 *             SAR uses SHR (the formulas give OF = 0 for it)
 *   ROL/ROR   dep1 = result, ndep = the previous RFLAGS (only CF and OF change)
 *   UMUL/SMUL dep1, dep2 = the operands (CF = OF = the product does not fit in w bits)
 */
import { low32 } from './bigint-bits';

export const CC_KINDS = ['ADD', 'ADC', 'SUB', 'SBB', 'LOGIC', 'INC', 'DEC', 'SHL', 'SHR', 'ROL', 'ROR', 'UMUL', 'SMUL'] as const;
export type CcKind = typeof CC_KINDS[number];

/** CC_OP of the COPY thunk. */
export const CC_OP_COPY = 0;

const WIDTH_INDEX: Record<number, number> = { 8: 0, 16: 1, 32: 2, 64: 3 };
const WIDTHS = [8, 16, 32, 64];

/** The CC_OP value of a kind at a width in bits. */
export function ccOp(kind: CcKind, width: number): number {
  return 1 + CC_KINDS.indexOf(kind) * 4 + WIDTH_INDEX[width];
}

/** The kind and width of a CC_OP value (undefined for COPY). */
export function ccOpDecode(op: number): { kind: CcKind; width: number } | undefined {
  if (op === CC_OP_COPY) return undefined;
  const k = CC_KINDS[(op - 1) >> 2];
  if (k === undefined) throw new Error(`bad CC_OP ${op}`);
  return { kind: k, width: WIDTHS[(op - 1) & 3] };
}

/** RFLAGS bit positions. */
export const F = { C: 1n, P: 4n, A: 16n, Z: 64n, S: 128n, D: 1024n, O: 2048n } as const;
/** The six arithmetic flags. */
export const OSZAPC = F.O | F.S | F.Z | F.A | F.P | F.C;

/** Condition codes in x86 encoding order (the low nibble of jcc/setcc/cmovcc); odd = negation. */
export const CONDS = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'] as const;
export const CC = { O: 0, NO: 1, B: 2, NB: 3, Z: 4, NZ: 5, BE: 6, NBE: 7, S: 8, NS: 9, P: 10, NP: 11, L: 12, NL: 13, LE: 14, NLE: 15 } as const;

const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let b = 0;
  for (let x = i; x; x >>= 1) b ^= x & 1;
  PARITY[i] = b ? 0 : 4; // PF set when the low byte has an even number of ones
}

// As BigInts, and widths too: BigInt(number) and Number(bigint) are slow runtime calls in V8.
const PARITY_BIG = Array.from(PARITY, (p) => BigInt(p));
const WIDTH_BIG = new Map<number, bigint>(WIDTHS.map((w) => [w, BigInt(w)]));

/** PF of a result: F.P when its low byte has even parity. */
export const parityFlag = (res: bigint): bigint => PARITY_BIG[low32(res) & 0xff];

/** The six arithmetic flags (OSZAPC in RFLAGS positions) that a thunk stands for. */
export function calcRflags(op: bigint, dep1: bigint, dep2: bigint, ndep: bigint): bigint {
  const d = ccOpDecode(low32(op));
  if (!d) return dep1 & OSZAPC;
  const w = WIDTH_BIG.get(d.width)!;
  const mask = (1n << w) - 1n;
  const sign = 1n << (w - 1n);
  const szp = (res: bigint): bigint => (res & sign ? F.S : 0n) | (res === 0n ? F.Z : 0n) | parityFlag(res);
  const af = (a: bigint, b: bigint, res: bigint): bigint => (a ^ b ^ res) & F.A;
  switch (d.kind) {
    case 'ADD': case 'ADC': {
      const cin = d.kind === 'ADC' ? ndep & 1n : 0n;
      const full = dep1 + dep2 + cin;
      const res = full & mask;
      const cf = full > mask ? F.C : 0n;
      const of = ((dep1 ^ dep2 ^ sign) & (dep1 ^ res) & sign) ? F.O : 0n;
      return cf | of | szp(res) | af(dep1, dep2, res);
    }
    case 'SUB': case 'SBB': {
      const cin = d.kind === 'SBB' ? ndep & 1n : 0n;
      const res = (dep1 - dep2 - cin) & mask;
      const cf = dep1 < dep2 + cin ? F.C : 0n;
      const of = ((dep1 ^ dep2) & (dep1 ^ res) & sign) ? F.O : 0n;
      return cf | of | szp(res) | af(dep1, dep2, res);
    }
    case 'LOGIC':
      return szp(dep1);
    case 'INC': case 'DEC': {
      const res = dep1;
      const arg = d.kind === 'INC' ? (res - 1n) & mask : (res + 1n) & mask;
      const of = d.kind === 'INC' ? (res === sign ? F.O : 0n) : (res === sign - 1n ? F.O : 0n);
      return (ndep & 1n ? F.C : 0n) | of | szp(res) | af(arg, 1n, res);
    }
    case 'SHL': {
      const cf = (dep2 >> (w - 1n)) & 1n ? F.C : 0n;
      const of = ((dep1 ^ dep2) & sign) ? F.O : 0n;
      return cf | of | szp(dep1);
    }
    case 'SHR': {
      const cf = dep2 & 1n ? F.C : 0n;
      const of = ((dep1 ^ dep2) & sign) ? F.O : 0n;
      return cf | of | szp(dep1);
    }
    case 'ROL': {
      const cf = dep1 & 1n;
      const of = ((dep1 >> (w - 1n)) ^ cf) & 1n;
      return (ndep & OSZAPC & ~(F.O | F.C)) | (cf ? F.C : 0n) | (of ? F.O : 0n);
    }
    case 'ROR': {
      const msb = (dep1 >> (w - 1n)) & 1n;
      const of = (msb ^ (dep1 >> (w - 2n))) & 1n;
      return (ndep & OSZAPC & ~(F.O | F.C)) | (msb ? F.C : 0n) | (of ? F.O : 0n);
    }
    case 'UMUL': {
      const full = dep1 * dep2;
      const res = full & mask;
      const co = full >> w !== 0n ? F.C | F.O : 0n;
      return co | szp(res);
    }
    case 'SMUL': {
      const full = BigInt.asIntN(d.width, dep1) * BigInt.asIntN(d.width, dep2);
      const res = full & mask;
      const co = full !== BigInt.asIntN(d.width, res) ? F.C | F.O : 0n;
      return co | szp(res);
    }
  }
}

/** Whether condition cc (0…15) holds for the flags value f (OSZAPC in place). */
export function condHolds(cc: number, f: bigint): boolean {
  const of = (f & F.O) !== 0n;
  const sf = (f & F.S) !== 0n;
  const zf = (f & F.Z) !== 0n;
  const cf = (f & F.C) !== 0n;
  const pf = (f & F.P) !== 0n;
  let r: boolean;
  switch (cc >> 1) {
    case 0: r = of; break;
    case 1: r = cf; break;
    case 2: r = zf; break;
    case 3: r = cf || zf; break;
    case 4: r = sf; break;
    case 5: r = pf; break;
    case 6: r = sf !== of; break;
    default: r = zf || sf !== of; break;
  }
  return (cc & 1) !== 0 ? !r : r;
}

/** The generic condition helper: condition cc on the thunk, as 0n/1n. */
export function calcCond(cc: bigint, op: bigint, dep1: bigint, dep2: bigint, ndep: bigint): bigint {
  return condHolds(low32(cc), calcRflags(op, dep1, dep2, ndep)) ? 1n : 0n;
}

/** The carry flag alone (for adc/sbb/rcl after a thunk from another block), as 0n/1n. */
export function calcCarry(op: bigint, dep1: bigint, dep2: bigint, ndep: bigint): bigint {
  return calcRflags(op, dep1, dep2, ndep) & F.C;
}
