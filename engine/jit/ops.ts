/**
 * The meaning of every IR operation, on canonical unsigned BigInts: the one definition that the
 * interpreter calls, the builder folds constants with, and the code generator reuses for
 * operations it does not inline.
 *
 * Floating point follows SSE2 with MXCSR at its default (round to nearest, exceptions masked,
 * no DAZ/FTZ): a NaN operand propagates quieted (the first operand's when both are NaN), an
 * invalid operation gives the "real indefinite" QNaN 0xFFF8…, an out-of-range float→integer
 * conversion gives the "integer indefinite" (the most negative integer).
 */
import type { Binop, Conv, UnopSame } from './ir';
import { Ty, tyMask } from './ir';

const { asUintN, asIntN } = BigInt;

// ------------------------------------------------------------------ bit-pattern conversions

const f64 = new Float64Array(1);
const f64bits = new BigUint64Array(f64.buffer);
const f32 = new Float32Array(1);
const f32bits = new Uint32Array(f32.buffer);

/** The double whose IEEE bits are v (I64). */
export function toF64(v: bigint): number {
  f64bits[0] = v;
  return f64[0];
}
/** The IEEE bits of a double. */
export function fromF64(d: number): bigint {
  f64[0] = d;
  return f64bits[0];
}
/** The float whose IEEE bits are v (I32). */
export function toF32(v: bigint): number {
  f32bits[0] = Number(v);
  return f32[0];
}
/** The IEEE bits of a float (d is rounded to single precision). */
export function fromF32(d: number): bigint {
  f32[0] = d;
  return BigInt(f32bits[0]);
}

const F64_QNAN_BIT = 1n << 51n;
const F32_QNAN_BIT = 1n << 22n;
/** x86's default NaN ("real indefinite"). */
export const F64_INDEFINITE = 0xfff8000000000000n;
export const F32_INDEFINITE = 0xffc00000n;

const isNaN64 = (v: bigint): boolean => (v & 0x7ff0000000000000n) === 0x7ff0000000000000n && (v & 0xfffffffffffffn) !== 0n;
const isNaN32 = (v: bigint): boolean => (v & 0x7f800000n) === 0x7f800000n && (v & 0x7fffffn) !== 0n;

/** SSE arithmetic on doubles: NaN operands propagate (quieted, first operand first), else compute. */
function arithF64(a: bigint, b: bigint, f: (x: number, y: number) => number): bigint {
  if (isNaN64(a)) return a | F64_QNAN_BIT;
  if (isNaN64(b)) return b | F64_QNAN_BIT;
  const r = f(toF64(a), toF64(b));
  return Number.isNaN(r) ? F64_INDEFINITE : fromF64(r);
}

function arithF32(a: bigint, b: bigint, f: (x: number, y: number) => number): bigint {
  if (isNaN32(a)) return a | F32_QNAN_BIT;
  if (isNaN32(b)) return b | F32_QNAN_BIT;
  // Computing in double and rounding once to single is exact for + - * / (and sqrt).
  const r = f(toF32(a), toF32(b));
  return Number.isNaN(r) ? F32_INDEFINITE : fromF32(r);
}

/** minsd/maxsd: the second operand unless the comparison holds strictly (so NaNs and ±0 give b). */
function minMaxF(ty: Ty, a: bigint, b: bigint, min: boolean): bigint {
  const x = ty === Ty.I64 ? toF64(a) : toF32(a);
  const y = ty === Ty.I64 ? toF64(b) : toF32(b);
  return (min ? x < y : x > y) ? a : b;
}

/** Round half to even (x86's default rounding) of a finite double. */
function roundEven(d: number): number {
  const f = Math.floor(d);
  const diff = d - f;
  if (diff < 0.5) return f;
  if (diff > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** A float → signed integer conversion of `bits` width, truncating or rounding. */
function floatToInt(d: number, bits: 32 | 64, trunc: boolean): bigint {
  const indefinite = 1n << BigInt(bits - 1);
  if (!Number.isFinite(d)) return indefinite;
  const r = trunc ? Math.trunc(d) : roundEven(d);
  const lim = 2 ** (bits - 1);
  if (r >= lim || r < -lim) return indefinite;
  return asUintN(bits, BigInt(r));
}

/** A signed 64-bit integer rounded once (to nearest even) to single precision. */
function i64ToF32(v: bigint): number {
  const s = asIntN(64, v);
  const mag = s < 0n ? -s : s;
  if (mag < 1n << 53n) return Math.fround(Number(s));
  // Keep 25 significant bits plus a sticky bit so that the single rounding by fround is exact.
  const shift = mag.toString(2).length - 26;
  const sticky = (mag & ((1n << BigInt(shift)) - 1n)) !== 0n ? 1n : 0n;
  const w = Number((mag >> BigInt(shift)) | sticky);
  const r = Math.fround(w) * 2 ** shift;
  return s < 0n ? -r : r;
}

// ------------------------------------------------------------------- bit counts on Numbers

// Bit scans and counts of values up to 64 bits work on their two 32-bit halves as Numbers: a
// loop of BigInt shifts allocates at every step and made bsf, popcnt and pmovmskb (every SSE2
// string function of glibc) the slowest instructions the translator ran.

/** Bits 0–31 of a (≥ 0) as a Number. */
const lo32 = (a: bigint): number => Number(asUintN(32, a));
/** Bits 32–63 of a (≥ 0) as a Number. */
const hi32 = (a: bigint): number => Number(asUintN(32, a >> 32n));

/** Leading zeros of a 64-bit value (64 for 0). */
function clz64(a: bigint): number {
  const h = hi32(a);
  return h !== 0 ? Math.clz32(h) : 32 + Math.clz32(lo32(a));
}

/** Trailing zeros of a nonzero 64-bit value. */
function ctz64(a: bigint): number {
  const l = lo32(a);
  if (l !== 0) return 31 - Math.clz32(l & -l);
  const h = hi32(a);
  return 63 - Math.clz32(h & -h);
}

/** Set bits of a 32-bit Number. */
function popcnt32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** The bytes of a 32-bit Number reversed, unsigned. */
function bswap32(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

/**
 * The top bits of the four bytes of a 32-bit Number, byte 0's in bit 0: the multiply moves bit 8k
 * to bit 28 + k, and its other partial products land on distinct lower bits (no carries).
 */
function msbs4(x: number): number {
  return Math.imul((x >>> 7) & 0x01010101, 0x10204080) >>> 28;
}

// --------------------------------------------------------------------------- 128-bit lanes

const LA = new BigUint64Array(2);
const LB = new BigUint64Array(2);
const LR = new BigUint64Array(2);
const A8 = new Uint8Array(LA.buffer); const B8 = new Uint8Array(LB.buffer); const R8 = new Uint8Array(LR.buffer);
const A16 = new Uint16Array(LA.buffer); const B16 = new Uint16Array(LB.buffer); const R16 = new Uint16Array(LR.buffer);
const A32 = new Uint32Array(LA.buffer); const B32 = new Uint32Array(LB.buffer); const R32 = new Uint32Array(LR.buffer);
const SA8 = new Int8Array(LA.buffer); const SB8 = new Int8Array(LB.buffer);
const SA16 = new Int16Array(LA.buffer); const SB16 = new Int16Array(LB.buffer);
const SA32 = new Int32Array(LA.buffer); const SB32 = new Int32Array(LB.buffer);
const M64 = (1n << 64n) - 1n;

function unpack(a: bigint, into: BigUint64Array): void {
  into[0] = a & M64;
  into[1] = a >> 64n;
}
const packR = (): bigint => (LR[1] << 64n) | LR[0];

/** Runs a lane-wise operation over the scratch views A·, B· into R·. */
function lanes(a: bigint, b: bigint, body: () => void): bigint {
  unpack(a, LA);
  unpack(b, LB);
  body();
  return packR();
}

/** Interleaves the low (or high) halves of a and b in lanes of `bytes`: r = a0 b0 a1 b1 … (b in the odd lanes). */
function interleave(a: bigint, b: bigint, bytes: number, high: boolean): bigint {
  return lanes(a, b, () => {
    const n = 16 / bytes;
    const base = high ? n / 2 : 0;
    for (let i = 0; i < n / 2; i++) {
      for (let k = 0; k < bytes; k++) {
        R8[(2 * i) * bytes + k] = A8[(base + i) * bytes + k];
        R8[(2 * i + 1) * bytes + k] = B8[(base + i) * bytes + k];
      }
    }
  });
}

function simd(op: Binop, a: bigint, b: bigint): bigint {
  switch (op) {
    case 'Add8x16': return lanes(a, b, () => { for (let i = 0; i < 16; i++) R8[i] = A8[i] + B8[i]; });
    case 'Add16x8': return lanes(a, b, () => { for (let i = 0; i < 8; i++) R16[i] = A16[i] + B16[i]; });
    case 'Add32x4': return lanes(a, b, () => { for (let i = 0; i < 4; i++) R32[i] = A32[i] + B32[i]; });
    case 'Add64x2': return lanes(a, b, () => { for (let i = 0; i < 2; i++) LR[i] = LA[i] + LB[i]; });
    case 'Sub8x16': return lanes(a, b, () => { for (let i = 0; i < 16; i++) R8[i] = A8[i] - B8[i]; });
    case 'Sub16x8': return lanes(a, b, () => { for (let i = 0; i < 8; i++) R16[i] = A16[i] - B16[i]; });
    case 'Sub32x4': return lanes(a, b, () => { for (let i = 0; i < 4; i++) R32[i] = A32[i] - B32[i]; });
    case 'Sub64x2': return lanes(a, b, () => { for (let i = 0; i < 2; i++) LR[i] = LA[i] - LB[i]; });
    case 'QAdd8Ux16': return lanes(a, b, () => { for (let i = 0; i < 16; i++) R8[i] = Math.min(255, A8[i] + B8[i]); });
    case 'QSub8Ux16': return lanes(a, b, () => { for (let i = 0; i < 16; i++) R8[i] = Math.max(0, A8[i] - B8[i]); });
    case 'Min8Ux16': return lanes(a, b, () => { for (let i = 0; i < 16; i++) R8[i] = Math.min(A8[i], B8[i]); });
    case 'Max8Ux16': return lanes(a, b, () => { for (let i = 0; i < 16; i++) R8[i] = Math.max(A8[i], B8[i]); });
    case 'CmpEQ8x16': return lanes(a, b, () => { for (let i = 0; i < 16; i++) R8[i] = A8[i] === B8[i] ? 0xff : 0; });
    case 'CmpEQ16x8': return lanes(a, b, () => { for (let i = 0; i < 8; i++) R16[i] = A16[i] === B16[i] ? 0xffff : 0; });
    case 'CmpEQ32x4': return lanes(a, b, () => { for (let i = 0; i < 4; i++) R32[i] = A32[i] === B32[i] ? 0xffffffff : 0; });
    case 'CmpEQ64x2': return lanes(a, b, () => { for (let i = 0; i < 2; i++) LR[i] = LA[i] === LB[i] ? M64 : 0n; });
    case 'CmpGT8Sx16': return lanes(a, b, () => { for (let i = 0; i < 16; i++) R8[i] = SA8[i] > SB8[i] ? 0xff : 0; });
    case 'CmpGT16Sx8': return lanes(a, b, () => { for (let i = 0; i < 8; i++) R16[i] = SA16[i] > SB16[i] ? 0xffff : 0; });
    case 'CmpGT32Sx4': return lanes(a, b, () => { for (let i = 0; i < 4; i++) R32[i] = SA32[i] > SB32[i] ? 0xffffffff : 0; });
    case 'InterleaveLO8x16': return interleave(a, b, 1, false);
    case 'InterleaveLO16x8': return interleave(a, b, 2, false);
    case 'InterleaveLO32x4': return interleave(a, b, 4, false);
    case 'InterleaveLO64x2': return interleave(a, b, 8, false);
    case 'InterleaveHI8x16': return interleave(a, b, 1, true);
    case 'InterleaveHI16x8': return interleave(a, b, 2, true);
    case 'InterleaveHI32x4': return interleave(a, b, 4, true);
    case 'InterleaveHI64x2': return interleave(a, b, 8, true);
    case 'MullEven32Ux4': return lanes(a, b, () => {
      LR[0] = BigInt(A32[0]) * BigInt(B32[0]);
      LR[1] = BigInt(A32[2]) * BigInt(B32[2]);
    });
    case 'Mul32x4': return lanes(a, b, () => { for (let i = 0; i < 4; i++) R32[i] = Math.imul(A32[i], B32[i]); });
    default: throw new Error(`not a SIMD operation: ${op}`);
  }
}

/** Lane-wise shifts by a count (I8); counts at or past the lane width clear the lane (or fill with its sign). */
function simdShift(op: Binop, a: bigint, n: number): bigint {
  return lanes(a, 0n, () => {
    switch (op) {
      case 'ShlN16x8': for (let i = 0; i < 8; i++) R16[i] = n > 15 ? 0 : A16[i] << n; break;
      case 'ShrN16x8': for (let i = 0; i < 8; i++) R16[i] = n > 15 ? 0 : A16[i] >>> n; break;
      case 'SarN16x8': for (let i = 0; i < 8; i++) R16[i] = SA16[i] >> Math.min(n, 15); break;
      case 'ShlN32x4': for (let i = 0; i < 4; i++) R32[i] = n > 31 ? 0 : A32[i] << n; break;
      case 'ShrN32x4': for (let i = 0; i < 4; i++) R32[i] = n > 31 ? 0 : A32[i] >>> n; break;
      case 'SarN32x4': for (let i = 0; i < 4; i++) R32[i] = SA32[i] >> Math.min(n, 31); break;
      case 'ShlN64x2': for (let i = 0; i < 2; i++) LR[i] = n > 63 ? 0n : LA[i] << BigInt(n); break;
      case 'ShrN64x2': for (let i = 0; i < 2; i++) LR[i] = n > 63 ? 0n : LA[i] >> BigInt(n); break;
      default: throw new Error(`not a lane shift: ${op}`);
    }
  });
}

/** pshufd/pshuflw/pshufhw: lanes selected by 2-bit fields of the immediate. */
function permute(op: Binop, a: bigint, imm: number): bigint {
  return lanes(a, 0n, () => {
    if (op === 'Perm32x4') {
      for (let i = 0; i < 4; i++) R32[i] = A32[(imm >> (2 * i)) & 3];
    } else if (op === 'PermLo16x4') {
      for (let i = 0; i < 4; i++) R16[i] = A16[(imm >> (2 * i)) & 3];
      for (let i = 4; i < 8; i++) R16[i] = A16[i];
    } else {
      for (let i = 0; i < 4; i++) R16[i] = A16[i];
      for (let i = 0; i < 4; i++) R16[4 + i] = A16[4 + ((imm >> (2 * i)) & 3)];
    }
  });
}

// ------------------------------------------------------------------------------ evaluation

/** Evaluates a same-type unary operation. */
export function evalUnop(op: UnopSame, ty: Ty, a: bigint): bigint {
  const w = BigInt(ty);
  switch (op) {
    case 'Not': return a ^ tyMask(ty);
    case 'Neg': return asUintN(ty, -a);
    case 'Clz': return ty <= 64 ? BigInt(clz64(a) - (64 - ty)) : a === 0n ? w : w - BigInt(a.toString(2).length);
    case 'Ctz': return a === 0n ? w : ty <= 64 ? BigInt(ctz64(a)) : BigInt((a & -a).toString(2).length - 1);
    case 'Popcnt': {
      if (ty <= 64) return BigInt(popcnt32(lo32(a)) + popcnt32(hi32(a)));
      let n = 0n;
      for (let x = a; x !== 0n; x &= x - 1n) n++;
      return n;
    }
    case 'Bswap': {
      if (ty === Ty.I32) return BigInt(bswap32(lo32(a)));
      if (ty === Ty.I64) return (BigInt(bswap32(lo32(a))) << 32n) | BigInt(bswap32(hi32(a)));
      let r = 0n;
      for (let i = 0n; i < w; i += 8n) r = (r << 8n) | ((a >> i) & 0xffn);
      return r;
    }
    case 'SqrtF64': {
      if (isNaN64(a)) return a | F64_QNAN_BIT;
      const r = Math.sqrt(toF64(a));
      return Number.isNaN(r) ? F64_INDEFINITE : fromF64(r);
    }
    case 'SqrtF32': {
      if (isNaN32(a)) return a | F32_QNAN_BIT;
      const r = Math.sqrt(toF32(a));
      return Number.isNaN(r) ? F32_INDEFINITE : fromF32(r);
    }
  }
}

/** Evaluates a conversion from type `from` to type `to`. */
export function evalConv(op: Conv, from: Ty, to: Ty, a: bigint): bigint {
  switch (op) {
    case 'ZExt': return a;
    case 'SExt': return asUintN(to, asIntN(from, a));
    case 'Narrow': return asUintN(to, a);
    case 'NarrowHi': return a >> BigInt(from - to);
    case 'I32StoF64': return fromF64(Number(asIntN(32, a)));
    case 'I64StoF64': return fromF64(Number(asIntN(64, a)));
    case 'I32StoF32': return fromF32(Number(asIntN(32, a)));
    case 'I64StoF32': return fromF32(i64ToF32(a));
    case 'F32toF64': return isNaN32(a) ? fromF64NaN32(a) : fromF64(toF32(a));
    case 'F64toF32': return isNaN64(a) ? fromF32NaN64(a) : fromF32(toF64(a));
    case 'F64toI32S_Z': return floatToInt(toF64(a), 32, true);
    case 'F64toI64S_Z': return floatToInt(toF64(a), 64, true);
    case 'F64toI32S_N': return floatToInt(toF64(a), 32, false);
    case 'F64toI64S_N': return floatToInt(toF64(a), 64, false);
    case 'F32toI32S_Z': return floatToInt(toF32(a), 32, true);
    case 'F32toI64S_Z': return floatToInt(toF32(a), 64, true);
    case 'F32toI32S_N': return floatToInt(toF32(a), 32, false);
    case 'F32toI64S_N': return floatToInt(toF32(a), 64, false);
    case 'GetMSBs8x16': {
      const lo = asUintN(64, a);
      const hi = a >> 64n;
      return BigInt(msbs4(lo32(lo)) | (msbs4(hi32(lo)) << 4) | (msbs4(lo32(hi)) << 8) | (msbs4(hi32(hi)) << 12));
    }
  }
}

// NaN conversions keep the sign and the top payload bits, quieted (as cvtss2sd/cvtsd2ss do).
function fromF64NaN32(a: bigint): bigint {
  return ((a >> 31n) << 63n) | 0x7ff8000000000000n | ((a & 0x3fffffn) << 29n);
}
function fromF32NaN64(a: bigint): bigint {
  return ((a >> 63n) << 31n) | 0x7fc00000n | ((a >> 29n) & 0x3fffffn);
}

/** Evaluates a binary operation whose operand type is ty. */
export function evalBinop(op: Binop, ty: Ty, a: bigint, b: bigint): bigint {
  switch (op) {
    case 'Add': return asUintN(ty, a + b);
    case 'Sub': return asUintN(ty, a - b);
    case 'Mul': return asUintN(ty, a * b);
    case 'MulHiU': return (a * b) >> BigInt(ty);
    case 'MulHiS': return asUintN(ty, (asIntN(ty, a) * asIntN(ty, b)) >> BigInt(ty));
    case 'And': return a & b;
    case 'Or': return a | b;
    case 'Xor': return a ^ b;
    case 'Shl': return b >= BigInt(ty) ? 0n : asUintN(ty, a << b);
    case 'Shr': return b >= BigInt(ty) ? 0n : a >> b;
    case 'Sar': return asUintN(ty, asIntN(ty, a) >> (b >= BigInt(ty) ? BigInt(ty - 1) : b));
    case 'CmpEQ': return a === b ? 1n : 0n;
    case 'CmpNE': return a !== b ? 1n : 0n;
    case 'CmpLTU': return a < b ? 1n : 0n;
    case 'CmpLEU': return a <= b ? 1n : 0n;
    case 'CmpLTS': return asIntN(ty, a) < asIntN(ty, b) ? 1n : 0n;
    case 'CmpLES': return asIntN(ty, a) <= asIntN(ty, b) ? 1n : 0n;
    case 'DivModU': {
      const q = a / b;
      return (asUintN(ty, a % b) << BigInt(ty)) | asUintN(ty, q);
    }
    case 'DivModS': {
      const sa = asIntN(ty * 2, a);
      const sb = asIntN(ty, b);
      return (asUintN(ty, sa % sb) << BigInt(ty)) | asUintN(ty, sa / sb);
    }
    case 'HL': return (a << BigInt(ty)) | b;
    case 'AddF': return ty === Ty.I64 ? arithF64(a, b, (x, y) => x + y) : arithF32(a, b, (x, y) => x + y);
    case 'SubF': return ty === Ty.I64 ? arithF64(a, b, (x, y) => x - y) : arithF32(a, b, (x, y) => x - y);
    case 'MulF': return ty === Ty.I64 ? arithF64(a, b, (x, y) => x * y) : arithF32(a, b, (x, y) => x * y);
    case 'DivF': return ty === Ty.I64 ? arithF64(a, b, (x, y) => x / y) : arithF32(a, b, (x, y) => x / y);
    case 'MinF': return minMaxF(ty, a, b, true);
    case 'MaxF': return minMaxF(ty, a, b, false);
    case 'CmpF': {
      const x = ty === Ty.I64 ? toF64(a) : toF32(a);
      const y = ty === Ty.I64 ? toF64(b) : toF32(b);
      if (Number.isNaN(x) || Number.isNaN(y)) return 0x45n;
      return x < y ? 0x01n : x === y ? 0x40n : 0n;
    }
    case 'ShlN16x8': case 'ShrN16x8': case 'SarN16x8': case 'ShlN32x4': case 'ShrN32x4': case 'SarN32x4':
    case 'ShlN64x2': case 'ShrN64x2':
      return simdShift(op, a, Number(b));
    case 'ShlBytes128': return b >= 16n ? 0n : asUintN(128, a << (8n * b));
    case 'ShrBytes128': return b >= 16n ? 0n : a >> (8n * b);
    case 'Perm32x4': case 'PermLo16x4': case 'PermHi16x4':
      return permute(op, a, Number(b));
    default:
      return simd(op, a, b);
  }
}
