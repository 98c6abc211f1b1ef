/**
 * Shared helpers of the debuginfo tests: fixture paths, building C fixtures with gcc into a
 * temporary directory, and the oracles (addr2line, gdb).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The repository root: the nearest ancestor of this file holding package.json. */
export function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + __dirname);
    dir = up;
  }
  return dir;
}

export const FIXTURES = path.join(repoRoot(), 'test', 'fixtures', 'debuginfo');
export const LIBC = '/usr/lib/x86_64-linux-gnu/libc.so.6';
/** Where the tests place a PIE when they choose the bias themselves (gdb's usual base). */
export const PIE_BIAS = 0x555555554000;

/** A temporary directory removed by `cleanup`. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unigrind-debuginfo-'));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Compiles fixture `name` (in test/fixtures/debuginfo) with gcc/g++ into `dir`; returns the binary. */
export function build(dir: string, name: string, out: string, flags: string[]): string {
  const exe = path.join(dir, out);
  const cc = name.endsWith('.cc') ? 'g++' : 'gcc';
  // Compile in the fixture's own directory with a relative name, so DW_AT_comp_dir is stable.
  execFileSync(cc, [...flags, '-o', exe, name], { cwd: FIXTURES, stdio: ['ignore', 'ignore', 'inherit'] });
  return exe;
}

/** Whether a tool is installed (tests that need it are skipped otherwise). */
export function have(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

/** One level of an addr2line -i answer. */
export interface A2lLevel {
  fn: string;
  file: string | undefined;
  line: number | undefined;
}

/** `addr2line -f -i -a -e exe` for many file-relative addresses at once. */
export function addr2line(exe: string, addrs: number[]): Map<number, A2lLevel[]> {
  const out = execFileSync('addr2line', ['-f', '-i', '-a', '-e', exe, ...addrs.map((a) => '0x' + a.toString(16))], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const res = new Map<number, A2lLevel[]>();
  let cur: A2lLevel[] = [];
  const lines = out.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (/^0x[0-9a-f]+$/.test(l)) {
      cur = [];
      res.set(parseInt(l, 16), cur);
    } else if (l !== '') {
      const loc = (lines[++i] ?? '').replace(/ \(discriminator \d+\)$/, '');
      const m = /^(.*):(\d+|\?)$/.exec(loc);
      const file = m && m[1] !== '??' ? path.basename(m[1]) : undefined;
      const line = m && m[2] !== '?' && m[2] !== '0' ? Number(m[2]) : undefined;
      cur.push({ fn: l, file, line });
    }
  }
  return res;
}

/**
 * Addresses (file-relative) of every instruction of the named functions, from objdump -d,
 * limited to each symbol's size (nm -S) so that alignment padding after a function, which no
 * symbol covers, is left out.
 */
export function instructionAddresses(exe: string, functions: string[]): number[] {
  const sizes = new Map<string, { start: number; end: number }>();
  for (const l of execFileSync('nm', ['-S', exe], { encoding: 'utf8' }).split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) [tT] (\S+)$/.exec(l);
    if (m) sizes.set(m[3], { start: parseInt(m[1], 16), end: parseInt(m[1], 16) + parseInt(m[2], 16) });
  }
  const out = execFileSync('objdump', ['-d', '--no-show-raw-insn', exe], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const addrs: number[] = [];
  let range: { start: number; end: number } | undefined;
  for (const l of out.split('\n')) {
    const head = /^[0-9a-f]+ <([^>]+)>:$/.exec(l);
    if (head) {
      range = functions.includes(head[1]) ? sizes.get(head[1]) : undefined;
      continue;
    }
    const insn = /^\s+([0-9a-f]+):\s/.exec(l);
    if (range && insn) {
      const a = parseInt(insn[1], 16);
      if (a >= range.start && a < range.end) addrs.push(a);
    }
  }
  return addrs;
}

/** The is_stmt rows of `file`'s line table (objdump --dwarf=decodedline), file-relative. */
export function stmtRows(exe: string, file: string): { line: number; address: number }[] {
  const out = execFileSync('objdump', ['--dwarf=decodedline', exe], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const rows: { line: number; address: number }[] = [];
  for (const l of out.split('\n')) {
    const m = /^(\S+)\s+(\d+)\s+0x([0-9a-f]+)\s+(\d+\s+)?x\s*$/.exec(l);
    if (m && m[1] === file) rows.push({ line: Number(m[2]), address: parseInt(m[3], 16) });
  }
  return rows;
}

/** Machine state captured by gdb at the program's fatal signal (see fixtures/capture.py). */
export interface Capture {
  regs: BigUint64Array;
  mappings: { start: number; end: number; offset: number; path: string }[];
  /** gdb's frames, innermost first; `virtual` marks inline and tail-call frames. */
  frames: { pc: number; virtual: boolean; name: string | null }[];
  stack: { start: number; end: number; bytes: Buffer };
}

/** Runs `exe` under gdb in batch mode up to its crash and returns the captured state. */
export function captureCrash(exe: string, dir: string): Capture {
  const capDir = fs.mkdtempSync(path.join(dir, 'cap-'));
  execFileSync('gdb', ['-batch', '-nx', '-x', path.join(FIXTURES, 'capture.py'), '--args', exe], {
    env: { ...process.env, UNIGRIND_CAPTURE_DIR: capDir },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const st = JSON.parse(fs.readFileSync(path.join(capDir, 'state.json'), 'utf8')) as {
    regs: string[];
    mappings: Capture['mappings'];
    frames: Capture['frames'];
    stack: { start: number; end: number };
  };
  return {
    regs: BigUint64Array.from(st.regs.map((r) => BigInt(r))),
    mappings: st.mappings,
    frames: st.frames,
    stack: { ...st.stack, bytes: fs.readFileSync(path.join(capDir, 'stack.bin')) },
  };
}

/** Load bias of each ELF file mapped in a capture: the start of its offset-0 mapping. */
export function loadedObjects(cap: Capture): { path: string; bias: number }[] {
  const seen = new Map<string, number>();
  for (const m of cap.mappings) {
    // All objects here are ET_DYN whose first PT_LOAD has vaddr 0, so bias = mapping start.
    if (m.offset === 0 && m.path.startsWith('/') && !seen.has(m.path)) seen.set(m.path, m.start);
  }
  return [...seen].map(([p, bias]) => ({ path: p, bias }));
}

/**
 * A GuestMemory over the captured [stack] mapping only. The words are copied into an aligned
 * BigUint64Array, the shape the engine's zero-copy guest memory (koffi.view) will have.
 */
export function stackMemory(cap: Capture): { readU64(addr: number): bigint | undefined } {
  const { start, bytes } = cap.stack;
  const words = new BigUint64Array(bytes.length >> 3);
  new Uint8Array(words.buffer).set(bytes.subarray(0, words.length * 8));
  const end = start + words.length * 8;
  return {
    readU64(addr: number): bigint | undefined {
      if (addr < start || addr + 8 > end) return undefined;
      const off = addr - start;
      if ((off & 7) === 0) return words[off >> 3];
      return bytes.readBigUInt64LE(off);
    },
  };
}
