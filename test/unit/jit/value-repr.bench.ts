/**
 * The measurement behind the IR's value representation (engine/jit/README.md): 64-bit guest
 * arithmetic as BigInts in a BigUint64Array register file versus pairs of 32-bit numbers in a
 * Uint32Array, in the two shapes that matter — straight-line code as the code generator emits
 * it, and a switch-dispatched interpreter. Not part of `npm test`; run it with
 *   node dist/test/unit/jit/value-repr.bench.js
 * and add --max-opt=1 to see the unoptimised tiers that cold code runs in.
 */

const N = 3_000_000;

/** rax += rbx; rbx ^= rax; rcx -= 1; loop while rcx != 0 — on BigInts. */
function straightBigInt(): [number, bigint] {
  const R = new BigUint64Array(16);
  R[0] = 1n; R[3] = 0x123456789n; R[1] = BigInt(N);
  const t = process.hrtime.bigint();
  for (;;) {
    R[0] = BigInt.asUintN(64, R[0] + R[3]);
    R[3] ^= R[0];
    R[1] = BigInt.asUintN(64, R[1] - 1n);
    if (R[1] === 0n) break;
  }
  return [Number(process.hrtime.bigint() - t) / 1e9, R[0]];
}

/** The same on 32-bit halves with explicit carries. */
function straightPairs(): [number, bigint] {
  const R = new Uint32Array(32);
  R[0] = 1; R[6] = 0x23456789; R[7] = 1; R[2] = N;
  const t = process.hrtime.bigint();
  for (;;) {
    const a0 = R[0];
    const lo = (a0 + R[6]) >>> 0;
    R[1] = (R[1] + R[7] + (lo < a0 ? 1 : 0)) >>> 0;
    R[0] = lo;
    R[6] ^= R[0];
    R[7] ^= R[1];
    const c0 = R[2];
    R[2] = (c0 - 1) >>> 0;
    R[3] = (R[3] - (c0 === 0 ? 1 : 0)) >>> 0;
    if ((R[2] | R[3]) === 0) break;
  }
  return [Number(process.hrtime.bigint() - t) / 1e9, (BigInt(R[1]) << 32n) | BigInt(R[0])];
}

// An interpreter over [op, dst, a, b]: 0 add, 1 xor, 2 sub imm, 3 exit if zero, 4 get, 5 put.
const PROG = [[4, 0, 0, 0], [4, 1, 3, 0], [0, 2, 0, 1], [5, 2, 0, 0], [1, 3, 1, 2], [5, 3, 3, 0], [4, 4, 1, 0], [2, 5, 4, 1], [5, 5, 1, 0], [3, 5, 0, 0]];

function interpBigInt(): [number, bigint] {
  const R = new BigUint64Array(16);
  const T = new BigUint64Array(8);
  R[0] = 1n; R[3] = 0x123456789n; R[1] = BigInt(N);
  const t = process.hrtime.bigint();
  outer: for (;;) {
    for (const p of PROG) {
      switch (p[0]) {
        case 0: T[p[1]] = BigInt.asUintN(64, T[p[2]] + T[p[3]]); break;
        case 1: T[p[1]] = T[p[2]] ^ T[p[3]]; break;
        case 2: T[p[1]] = BigInt.asUintN(64, T[p[2]] - BigInt(p[3])); break;
        case 3: if (T[p[1]] === 0n) break outer; break;
        case 4: T[p[1]] = R[p[2]]; break;
        case 5: R[p[2]] = T[p[1]]; break;
      }
    }
  }
  return [Number(process.hrtime.bigint() - t) / 1e9, R[0]];
}

function interpPairs(): [number, bigint] {
  const R = new Uint32Array(32);
  const T = new Uint32Array(16);
  R[0] = 1; R[6] = 0x23456789; R[7] = 1; R[2] = N;
  const t = process.hrtime.bigint();
  outer: for (;;) {
    for (const p of PROG) {
      const d = 2 * p[1];
      const a = 2 * p[2];
      const b = 2 * p[3];
      switch (p[0]) {
        case 0: { const x = T[a]; const lo = (x + T[b]) >>> 0; T[d + 1] = (T[a + 1] + T[b + 1] + (lo < x ? 1 : 0)) >>> 0; T[d] = lo; break; }
        case 1: T[d] = T[a] ^ T[b]; T[d + 1] = T[a + 1] ^ T[b + 1]; break;
        case 2: { const x = T[a]; const c = p[3]; T[d] = (x - c) >>> 0; T[d + 1] = (T[a + 1] - (x < c ? 1 : 0)) >>> 0; break; }
        case 3: if ((T[d] | T[d + 1]) === 0) break outer; break;
        case 4: T[d] = R[a]; T[d + 1] = R[a + 1]; break;
        case 5: R[a] = T[d]; R[a + 1] = T[d + 1]; break;
      }
    }
  }
  return [Number(process.hrtime.bigint() - t) / 1e9, (BigInt(R[1]) << 32n) | BigInt(R[0])];
}

function main(): void {
  for (const [name, f, ops] of [
    ['straight-line, BigInt', straightBigInt, 4], ['straight-line, 32-bit pairs', straightPairs, 4],
    ['interpreter, BigInt', interpBigInt, PROG.length], ['interpreter, 32-bit pairs', interpPairs, PROG.length],
  ] as const) {
    let best = Infinity;
    let result = 0n;
    for (let i = 0; i < 3; i++) {
      const [secs, r] = f();
      best = Math.min(best, secs);
      result = r;
    }
    console.log(`${name.padEnd(28)} ${((ops * N) / best / 1e6).toFixed(0).padStart(5)} M ops/s  (result ${result.toString(16)})`);
  }
}

main();
