/**
 * One differential case: the same code from the same state on Unicorn, on the lifter +
 * interpreter one instruction per block, on the lifter + interpreter with whole blocks, and on
 * the lifter + code generator with whole blocks. Unicorn must agree with the block run on
 * everything the architecture defines; the other runs must agree with it exactly (block-level
 * specialisation of flags, optimisation and compilation to JS must not change results). The single-step run also tracks which flags are undefined, per flag-spec.ts, and a
 * case that reads one is skipped.
 */
import MCapstone from '@alexaltea/capstone-js';
import type { Decoder } from '@alexaltea/capstone-js';
import { F, OSZAPC } from '../../../engine/jit/flags';
import { GPR_NAMES, GuestState, OFF, xmmOff } from '../../../engine/jit/guest-state';
import { decode, isFailure } from '../../../engine/jit/lift/decode';
import { rflagsOf } from '../../../engine/jit/unicorn-sync';
import { flagEffect } from './flag-spec';
import { CODE, Machines, Outcome, Stop } from './machine';

let cs: Decoder | undefined;

/** Loads Capstone for the failure messages and the coverage report. */
export async function capstone(): Promise<Decoder> {
  if (!cs) {
    const m = await MCapstone();
    cs = new m.Capstone(m.ARCH_X86, m.MODE_64);
  }
  return cs;
}

/** Capstone's text of code at CODE, one instruction a line. */
export function disasm(code: Uint8Array, at = CODE): string {
  if (!cs) return Buffer.from(code).toString('hex');
  try {
    return cs.disasm(Array.from(code), at).map((i) => `${Number(i.address).toString(16)}: ${i.mnemonic} ${i.op_str}`).join('; ');
  } catch {
    return '(capstone cannot decode)';
  }
}

const hex = (v: bigint): string => `0x${v.toString(16)}`;

/** RFLAGS bits compared beyond OSZAPC and DF: none (Unicorn's other bits are its own business). */
function flagsOf(s: GuestState, undef: bigint): bigint {
  return rflagsOf(s) & (OSZAPC | F.D) & ~undef;
}

/**
 * Whether two xmm values differ only in lanes where both hold a NaN (as doubles, or as floats).
 * With two NaN operands SSE returns the first one (SDM Vol. 1, table 4-7), which the lifter does;
 * QEMU applies x87's rule (the larger significand) instead. Which NaN comes out is the only
 * difference this forgives.
 */
export function nanChoice(a: Buffer, b: Buffer): boolean {
  const lanes = (size: 4 | 8): boolean => {
    for (let i = 0; i < 16; i += size) {
      if (a.subarray(i, i + size).equals(b.subarray(i, i + size))) continue;
      const nan = (x: Buffer): boolean => Number.isNaN(size === 8 ? x.readDoubleLE(i) : x.readFloatLE(i));
      if (!nan(a) || !nan(b)) return false;
    }
    return true;
  };
  return lanes(8) || lanes(4);
}

/** Differences between two outcomes; undef masks flags that are not compared. */
export function compare(a: Outcome, b: Outcome, undef: bigint, names = ['unicorn', 'lifter']): string[] {
  const d: string[] = [];
  if (a.fault !== b.fault) d.push(`fault ${names[0]}=${a.fault} ${names[1]}=${b.fault}`);
  // After a memory fault Unicorn's registers are those of its translation block's start.
  if (a.fault === 'mem' && b.fault === 'mem') return d;
  for (let r = 0; r < 16; r++) {
    if (a.state.gpr(r) !== b.state.gpr(r)) d.push(`${GPR_NAMES[r]} ${names[0]}=${hex(a.state.gpr(r))} ${names[1]}=${hex(b.state.gpr(r))}`);
  }
  if (a.state.rip !== b.state.rip) d.push(`rip ${names[0]}=${hex(BigInt(a.state.rip))} ${names[1]}=${hex(BigInt(b.state.rip))}`);
  const fa = flagsOf(a.state, undef);
  const fb = flagsOf(b.state, undef);
  if (fa !== fb) d.push(`rflags ${names[0]}=${hex(fa)} ${names[1]}=${hex(fb)} (undefined ${hex(undef)})`);
  for (let x = 0; x < 16; x++) {
    const xa = Buffer.from(a.state.bytes.subarray(xmmOff(x), xmmOff(x) + 16));
    const xb = Buffer.from(b.state.bytes.subarray(xmmOff(x), xmmOff(x) + 16));
    if (!xa.equals(xb) && !nanChoice(xa, xb)) d.push(`xmm${x} ${names[0]}=${xa.toString('hex')} ${names[1]}=${xb.toString('hex')}`);
  }
  if (a.state.dv.getUint32(OFF.MXCSR, true) !== b.state.dv.getUint32(OFF.MXCSR, true)) d.push('mxcsr');
  if (Buffer.compare(a.data, b.data) !== 0) {
    const i = a.data.findIndex((x, k) => x !== b.data[k]);
    d.push(`data+0x${i.toString(16)} ${names[0]}=${a.data[i]} ${names[1]}=${b.data[i]}`);
  }
  return d;
}

export interface CaseResult {
  /** Why the case was not compared (it reads an undefined flag). */
  readonly skipped?: string;
  readonly diffs: readonly string[];
}

/** Runs one case on the three machines and compares. */
export function runCase(m: Machines, code: Uint8Array, init: GuestState, data: Uint8Array, stop: Stop): CaseResult {
  m.loadCode(code);
  let undef = 0n;
  let reads: string | undefined;
  const step = m.runInterp(init, data, stop, code.length, 1, (st) => {
    const at = st.rip - CODE;
    const d = decode(code.subarray(at), st.rip);
    if (isFailure(d)) return;
    const e = flagEffect(d, st);
    if (e.reads & undef && !reads) reads = `${d.mnem} reads undefined flags ${hex(e.reads & undef)}`;
    undef = (undef & ~e.writes) | e.undef;
  });
  if (reads) return { skipped: reads, diffs: [] };
  const block = m.runInterp(init, data, stop, code.length, 50);
  const uni = m.runUnicorn(init, data, stop);
  const compiled = m.runInterp(init, data, stop, code.length, 50, undefined, 'codegen');
  const diffs = compare(uni, block, undef);
  diffs.push(...compare(step, block, 0n, ['single-step', 'block']));
  diffs.push(...compare(compiled, block, 0n, ['codegen', 'interpreter']));
  return { diffs };
}
