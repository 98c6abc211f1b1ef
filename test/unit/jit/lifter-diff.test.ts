/**
 * Differential tests of the lifter + IR interpreter against Unicorn: random instructions and
 * sequences generated from the lifter's opcode tables (deterministic seeds), branches after
 * random flag producers, and hand-picked tricky cases. Every case compares all general
 * registers, RIP, the flags the instructions define, the xmm registers, MXCSR, the data pages
 * and how the run ended (a #DE, #GP or memory fault must happen on both or neither).
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { Insn } from '../../../engine/jit/lift/decode';
import { STRING_MNEMONICS } from '../../../engine/jit/lift/sem-string';
import { OFF, xmmOff } from '../../../engine/jit/guest-state';
import { setRflags } from '../../../engine/jit/unicorn-sync';
import { assemble } from './asm';
import { CASES, REG } from './cases';
import { capstone, CaseResult, disasm, runCase } from './diff';
import { Gen, NOT_STRAIGHT } from './gen';
import { rng } from '../../support/rng';
import { CODE, Machines } from './machine';

interface Tally {
  cases: number;
  skipped: number;
  failures: string[];
  byMnem: Map<string, number>;
}

function newTally(): Tally {
  return { cases: 0, skipped: 0, failures: [], byMnem: new Map() };
}

function record(t: Tally, r: CaseResult, code: Uint8Array, mnems: string[]): void {
  t.cases++;
  for (const m of mnems) t.byMnem.set(m, (t.byMnem.get(m) ?? 0) + 1);
  if (r.skipped) t.skipped++;
  else if (r.diffs.length) t.failures.push(`${disasm(code)} [${Buffer.from(code).toString('hex')}]: ${r.diffs.join(', ')}`);
}

function report(name: string, t: Tally): void {
  console.log(`# ${name}: ${t.cases} cases, ${t.skipped} skipped (read undefined flags), ${t.failures.length} failed, ${t.byMnem.size} mnemonics`);
  assert.equal(t.failures.length, 0, `${t.failures.length} mismatches, first ones:\n${t.failures.slice(0, 15).join('\n')}`);
}

const straight = (i: Insn): boolean => !NOT_STRAIGHT.has(i.mnem);

/** Random straight-line sequences of 1…maxLen instructions. */
function randomSequences(m: Machines, seed: number, cases: number, maxLen: number): Tally {
  const g = new Gen(rng(seed));
  const t = newTally();
  for (let n = 0; n < cases; n++) {
    const len = 1 + g.int(maxLen);
    const parts: Uint8Array[] = [];
    const mnems: string[] = [];
    let at = CODE;
    let rep = false;
    for (let k = 0; k < len; k++) {
      const x = g.insn(at, straight);
      parts.push(x.bytes);
      mnems.push(x.insn.mnem);
      rep ||= x.insn.rep !== 0 && STRING_MNEMONICS.has(x.insn.mnem);
      at += x.bytes.length;
    }
    const code = Buffer.concat(parts);
    const init = g.state({ smallRcx: rep });
    record(t, runCase(m, code, init, g.data(), { until: CODE + code.length }), code, mnems);
  }
  return t;
}

/** Random flag producers followed by a conditional branch (rel8 or rel32), stopped by count. */
function randomBranches(m: Machines, seed: number, cases: number): Tally {
  const g = new Gen(rng(seed));
  const t = newTally();
  for (let n = 0; n < cases; n++) {
    const parts: Uint8Array[] = [];
    const mnems: string[] = [];
    let at = CODE;
    const producers = 1 + g.int(3);
    for (let k = 0; k < producers; k++) {
      const x = g.insn(at, (i) => straight(i) && !(i.rep && STRING_MNEMONICS.has(i.mnem)));
      parts.push(x.bytes);
      mnems.push(x.insn.mnem);
      at += x.bytes.length;
    }
    const cc = g.int(16);
    const rel = g.int(48);
    const jcc = g.chance(0.5)
      ? Uint8Array.of(0x70 + cc, rel & 0xff)
      : Uint8Array.of(0x0f, 0x80 + cc, rel & 0xff, rel < 0 ? 0xff : 0, rel < 0 ? 0xff : 0, rel < 0 ? 0xff : 0);
    parts.push(jcc);
    mnems.push('jcc');
    const code = Buffer.concat(parts);
    record(t, runCase(m, code, g.state(), g.data(), { count: producers + 1 }), code, mnems);
  }
  return t;
}

describe('lifter + interpreter against Unicorn', () => {
  let m: Machines;
  before(async () => {
    await capstone();
    m = new Machines();
  });
  after(() => m.close());

  it('agrees on random single instructions', () => {
    report('single instructions', randomSequences(m, 1, 6000, 1));
  });

  it('agrees on random straight-line sequences', () => {
    report('sequences of 2-8', randomSequences(m, 2, 2500, 8));
  });

  it('agrees on conditional branches after random flag producers', () => {
    report('branches', randomBranches(m, 3, 2000));
  });

  it('agrees on hand-picked cases', () => {
    const codes = assemble(CASES.map((c) => c.asm));
    const g = new Gen(rng(4));
    const t = newTally();
    CASES.forEach((hc, i) => {
      const code = codes[i];
      for (let k = 0; k < 4; k++) {
        const init = g.state();
        for (const [name, v] of Object.entries(hc.regs ?? {})) init.setGpr(REG[name as keyof typeof REG], v);
        if (hc.rflags !== undefined) setRflags(init, hc.rflags);
        for (const [x, [lo, hi]] of Object.entries(hc.xmm ?? {})) {
          init.dv.setBigUint64(xmmOff(Number(x)), lo, true);
          init.dv.setBigUint64(xmmOff(Number(x)) + 8, hi, true);
        }
        if (hc.fsBase !== undefined) init.u64[OFF.FS_BASE >> 3] = BigInt(hc.fsBase);
        const stop = hc.count !== undefined ? { count: hc.count } : { until: CODE + code.length };
        const r = runCase(m, code, init, g.data(), stop);
        record(t, r.diffs.length ? { ...r, diffs: [`(${hc.name})`, ...r.diffs] } : r, code, [hc.name]);
      }
    });
    report('hand-picked', t);
  });
});
