/**
 * The bit counts and byte moves of ops.ts that work on 32-bit halves as Numbers (Clz, Ctz,
 * Popcnt, Bswap, GetMSBs8x16), against their definitions bit by bit on BigInts, over random
 * values with runs of zeros at either end (the cases a half-word split gets wrong).
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { evalConv, evalUnop } from '../../../engine/jit/ops';
import { Ty, UnopSame } from '../../../engine/jit/ir';
import { rng } from '../../support/rng';

/** Bit i of a. */
const bit = (a: bigint, i: number): bigint => (a >> BigInt(i)) & 1n;

/** The operation by its definition, one bit or byte at a time. */
function reference(op: UnopSame, ty: number, a: bigint): bigint {
  switch (op) {
    case 'Clz': { let n = 0; while (n < ty && bit(a, ty - 1 - n) === 0n) n++; return BigInt(n); }
    case 'Ctz': { let n = 0; while (n < ty && bit(a, n) === 0n) n++; return BigInt(n); }
    case 'Popcnt': { let n = 0n; for (let i = 0; i < ty; i++) n += bit(a, i); return n; }
    case 'Bswap': { let r = 0n; for (let i = 0; i < ty; i += 8) r = (r << 8n) | ((a >> BigInt(i)) & 0xffn); return r; }
    default: throw new Error(op);
  }
}

/** A random ty-bit value, sometimes with its low or high bits cleared, sometimes 0. */
function value(next: () => number, ty: number): bigint {
  let v = 0n;
  for (let i = 0; i < ty; i += 16) v = (v << 16n) | BigInt(next() & 0xffff);
  v = BigInt.asUintN(ty, v);
  const k = next() % 10;
  const cut = BigInt(next() % ty);
  if (k < 3) v &= (1n << cut) - 1n;
  else if (k < 6) v &= ~((1n << cut) - 1n);
  else if (k === 9) v = 0n;
  return BigInt.asUintN(ty, v);
}

describe('ops on 32-bit halves', () => {
  it('Clz, Ctz, Popcnt and Bswap agree with their definitions', () => {
    const r = rng(4);
    const next = (): number => Math.floor(r() * 0x100000000);
    for (let i = 0; i < 20000; i++) {
      for (const ty of [Ty.I8, Ty.I16, Ty.I32, Ty.I64]) {
        for (const op of ['Clz', 'Ctz', 'Popcnt', 'Bswap'] as const) {
          if (op === 'Bswap' && ty < Ty.I32) continue;
          const a = value(next, ty);
          assert.equal(evalUnop(op, ty, a), reference(op, ty, a), `${op} I${ty} 0x${a.toString(16)}`);
        }
      }
    }
  });

  it('GetMSBs8x16 gathers the top bit of each byte, byte 0 first', () => {
    const r = rng(5);
    const next = (): number => Math.floor(r() * 0x100000000);
    for (let i = 0; i < 20000; i++) {
      const a = value(next, 128);
      let want = 0n;
      for (let b = 0; b < 16; b++) want |= bit(a, 8 * b + 7) << BigInt(b);
      assert.equal(evalConv('GetMSBs8x16', Ty.I128, Ty.I32, a), want, `0x${a.toString(16)}`);
    }
  });
});
