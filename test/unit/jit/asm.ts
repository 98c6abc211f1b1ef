/**
 * Assembles Intel-syntax snippets with GNU as (binutils, installed with gcc), all in one run:
 * each snippet is delimited by labels in .text and cut out of the flat binary by their offsets.
 * Snippets must be position-independent (relative branches, RIP-relative data), as they run at
 * another address than the assembler assumed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function assemble(snippets: readonly (readonly string[])[]): Uint8Array[] {
  const dir = mkdtempSync(join(tmpdir(), 'unigrind-jit-asm-'));
  try {
    const src = ['.intel_syntax noprefix', '.text'];
    snippets.forEach((lines, i) => {
      src.push(`case_${i}_begin:`, ...lines, `case_${i}_end:`);
    });
    writeFileSync(join(dir, 'a.s'), src.join('\n') + '\n');
    execFileSync('as', ['--64', '-o', join(dir, 'a.o'), join(dir, 'a.s')], { stdio: ['ignore', 'pipe', 'pipe'] });
    execFileSync('objcopy', ['-O', 'binary', '-j', '.text', join(dir, 'a.o'), join(dir, 'a.bin')]);
    const bin = readFileSync(join(dir, 'a.bin'));
    const syms = new Map<string, number>();
    for (const line of execFileSync('nm', [join(dir, 'a.o')], { encoding: 'utf8' }).split('\n')) {
      const m = /^([0-9a-f]+) \w (case_\d+_\w+)$/.exec(line);
      if (m) syms.set(m[2], parseInt(m[1], 16));
    }
    return snippets.map((_, i) => new Uint8Array(bin.subarray(syms.get(`case_${i}_begin`)!, syms.get(`case_${i}_end`)!)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
