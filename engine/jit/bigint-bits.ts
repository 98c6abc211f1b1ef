/**
 * Conversions between BigInt and Number through a shared 8-byte buffer. V8 (Node 20) turns
 * `Number(big)` and `BigInt(num)` into runtime calls that cost 15–70 ns each, while storing a
 * BigInt into a BigUint64Array and reading its halves back (or the reverse) compiles to a few
 * machine instructions. Generated code and the translator's helpers convert on every memory
 * access, so these are on the hottest path.
 */

const SCRATCH = new BigUint64Array(1);
const SCRATCH32 = new Uint32Array(SCRATCH.buffer);

/** The Number of an unsigned 64-bit BigInt (exact below 2^53, rounded like Number() above). */
export function toNum(v: bigint): number {
  SCRATCH[0] = v;
  return SCRATCH32[1] * 4294967296 + SCRATCH32[0];
}

/** The BigInt of a Number in [0, 2^32). */
export function fromU32(n: number): bigint {
  SCRATCH32[0] = n;
  SCRATCH32[1] = 0;
  return SCRATCH[0];
}

/** The BigInt of a Number in [0, 2^53) (guest addresses). */
export function fromNum(n: number): bigint {
  SCRATCH32[0] = n >>> 0;
  SCRATCH32[1] = Math.floor(n / 4294967296);
  return SCRATCH[0];
}

/** The low 32 bits of a BigInt, as an unsigned Number. */
export function low32(v: bigint): number {
  SCRATCH[0] = v;
  return SCRATCH32[0];
}

/** The buffer pair itself, for generated code that inlines the conversions. */
export const BIGINT_SCRATCH = { S: SCRATCH, S32: SCRATCH32 } as const;
