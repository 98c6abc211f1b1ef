/**
 * Static coverage of the lifter on real code: every instruction of the functions of a gcc-built
 * fixture (-O0 and -O2) and of libc's exported functions, found by Capstone's linear sweep over
 * each symbol's bytes. Each instruction is decoded by the lifter (its length must agree with
 * Capstone's) and lifted alone; each function is also lifted as a chain of whole blocks, and
 * every block must pass the IR checker as lifted, optimised and instrumented by memcheck (and,
 * for the fixture, compile to JS). The output gives the share lifted and the most frequent
 * mnemonics left to Unicorn.
 */
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import type { Decoder } from '@alexaltea/capstone-js';
import { readElf } from '../../../engine/elf/elf-file';
import { compileBlock } from '../../../engine/jit/codegen';
import { checkIRSB } from '../../../engine/jit/ir-check';
import { optimize } from '../../../engine/jit/opt';
import { instrumentMemcheck, MC_DIRTY_SIGNATURES } from '../../../engine/memcheck/vbits';
import { decodeCovered, liftBlock } from '../../../engine/jit/lift/lift';
import { isFailure } from '../../../engine/jit/lift/decode';
import { compile, makeTempDir } from '../../support/compile';
import { fixture } from '../../support/paths';
import { capstone } from './diff';

const LIBC = '/usr/lib/x86_64-linux-gnu/libc.so.6';
/** Names of glibc's multiarch variants (string/memory functions for each ISA level). */
const VECTOR_VARIANT = /_(sse2|ssse3|sse4|avx|evex|erms)|_unaligned/i;

/** libc's separate debug file, by build-id, if installed. */
function libcDebugFile(): string | undefined {
  if (!existsSync(LIBC)) return undefined;
  const notes = execFileSync('readelf', ['-n', LIBC], { encoding: 'utf8' });
  const id = /Build ID: ([0-9a-f]+)/.exec(notes)?.[1];
  const f = id && `/usr/lib/debug/.build-id/${id.slice(0, 2)}/${id.slice(2)}.debug`;
  return f && existsSync(f) ? f : undefined;
}

interface Fn {
  readonly name: string;
  readonly addr: number;
  readonly bytes: Uint8Array;
}

/**
 * Text symbols (nm -S) with their bytes, mapped from addresses to file offsets through PT_LOAD.
 * Symbols come from `symbols` (a separate debug file) when given.
 */
function functions(path: string, dynamic: boolean, symbols = path): Fn[] {
  const elf = readElf(path);
  const out = execFileSync('nm', ['-S', '--defined-only', ...(dynamic ? ['-D'] : []), symbols], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const seen = new Set<number>();
  const fns: Fn[] = [];
  for (const line of out.split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) [tT] (\S+)$/.exec(line);
    if (!m) continue;
    const addr = parseInt(m[1], 16);
    const size = parseInt(m[2], 16);
    if (size === 0 || seen.has(addr)) continue;
    seen.add(addr);
    const seg = elf.programs.find((p) => p.type === 1 && addr >= p.vaddr && addr + size <= p.vaddr + p.filesz);
    if (!seg) continue;
    const off = addr - seg.vaddr + seg.offset;
    fns.push({ name: m[3], addr, bytes: elf.data.subarray(off, off + size) });
  }
  return fns;
}

interface Coverage {
  functions: number;
  insns: number;
  lifted: number;
  blocks: number;
  missing: Map<string, number>;
  lengthMismatches: string[];
  irErrors: string[];
}

function measure(cs: Decoder, fns: readonly Fn[], opts: { compile?: boolean; blocks?: boolean } = {}): Coverage {
  const c: Coverage = { functions: fns.length, insns: 0, lifted: 0, blocks: 0, missing: new Map(), lengthMismatches: [], irErrors: [] };
  for (const f of fns) {
    let insns;
    try {
      insns = cs.disasm(Array.from(f.bytes), f.addr);
    } catch {
      continue; // nothing Capstone can decode (data in text)
    }
    const fetch = (a: number, n: number): Uint8Array | undefined =>
      a >= f.addr && a < f.addr + f.bytes.length ? f.bytes.subarray(a - f.addr, Math.min(f.bytes.length, a - f.addr + n)) : undefined;
    for (const i of insns) {
      const addr = Number(i.address);
      c.insns++;
      const d = decodeCovered(f.bytes.subarray(addr - f.addr), addr);
      if (isFailure(d)) {
        const key = i.mnemonic;
        c.missing.set(key, (c.missing.get(key) ?? 0) + 1);
        continue;
      }
      if (d.len !== i.size) {
        c.lengthMismatches.push(`${f.name}+0x${(addr - f.addr).toString(16)} ${i.mnemonic} ${i.op_str}: capstone ${i.size}, lifter ${d.len}`);
        continue;
      }
      const sb = liftBlock(fetch, addr, { maxInsns: 1 });
      if (sb.jk === 'NoDecode') c.missing.set(i.mnemonic, (c.missing.get(i.mnemonic) ?? 0) + 1);
      else c.lifted++;
    }
    // Whole blocks along the function: a block ends at control flow or an uncovered instruction.
    if (opts.blocks === false) continue;
    const sizes = new Map(insns.map((i) => [Number(i.address), i.size]));
    for (let pc = f.addr; pc < f.addr + f.bytes.length && sizes.has(pc);) {
      const sb = liftBlock(fetch, pc);
      c.blocks++;
      // The block, optimised, and instrumented by memcheck must all be well formed, and the
      // result must compile to JS.
      const opt = optimize(sb);
      const mc = optimize(instrumentMemcheck(opt));
      const errs = [...checkIRSB(sb), ...checkIRSB(opt), ...checkIRSB(mc, MC_DIRTY_SIGNATURES)];
      if (errs.length) c.irErrors.push(`${f.name} block at 0x${pc.toString(16)}: ${errs[0]}`);
      if (opts.compile) compileBlock(mc);
      pc += sb.len > 0 ? sb.len : sizes.get(pc)!;
    }
  }
  return c;
}

function report(name: string, c: Coverage): string {
  const pct = ((100 * c.lifted) / Math.max(1, c.insns)).toFixed(2);
  const top = [...c.missing.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([m, n]) => `${m} ${n}`).join(', ');
  const line = `${name}: ${c.functions} functions, ${c.insns} instructions, ${pct}% lifted, ${c.blocks} blocks; not lifted: ${top || 'none'}`;
  console.log(`# ${line}`);
  return line;
}

function check(c: Coverage): void {
  assert.deepEqual(c.lengthMismatches.slice(0, 10), [], 'instruction lengths differ from Capstone');
  assert.deepEqual(c.irErrors.slice(0, 10), [], 'ill-formed IR');
}

describe('lifter static coverage', () => {
  let cs: Decoder;
  let dir: string;
  before(async () => {
    cs = await capstone();
    dir = makeTempDir('jit-coverage');
  });

  for (const opt of ['O0', 'O2'] as const) {
    it(`lifts the gcc -${opt} fixture`, () => {
      const exe = compile(fixture('jit', 'mix.c'), dir, { opt, link: 'dynamic' }, ['-lm']);
      const out = execFileSync(exe, { encoding: 'utf8' });
      assert.match(out, /^[0-9a-f]{16} /);
      const c = measure(cs, functions(exe, false), { compile: true });
      report(`mix.c -${opt}`, c);
      check(c);
      // Plain gcc output: everything but the odd x87/exotic instruction is covered.
      assert.ok(c.lifted / c.insns > 0.98, `only ${c.lifted}/${c.insns} lifted`);
      rmSync(exe);
    });
  }

  it('lifts libc\'s exported functions', { skip: !existsSync(LIBC) && 'no libc.so.6' }, () => {
    const c = measure(cs, functions(LIBC, true));
    report('libc.so.6 (exported functions)', c);
    check(c);
    assert.ok(c.lifted / c.insns > 0.99, `only ${c.lifted}/${c.insns} lifted`);
  });

  // With glibc's debug file (Debian's libc6-dbg, found by build-id) every function has a symbol,
  // internal ones (_int_malloc, __printf_fp…) and the IFUNC variants for newer CPUs included.
  const debugFile = libcDebugFile();
  it('lifts every function of libc, by its debug symbols', { skip: !debugFile && 'no libc debug file' }, () => {
    const all = functions(LIBC, false, debugFile!);
    const vector = all.filter((f) => VECTOR_VARIANT.test(f.name));
    const plain = all.filter((f) => !VECTOR_VARIANT.test(f.name));
    const c = measure(cs, plain);
    report('libc.so.6 (all functions but the vector IFUNC variants)', c);
    check(c);
    assert.ok(c.lifted / c.insns > 0.99, `only ${c.lifted}/${c.insns} lifted`);
    report('libc.so.6 (SSE4/AVX/EVEX IFUNC variants: never selected, the guest sees no AVX)', measure(cs, vector, { blocks: false }));
  });

});
