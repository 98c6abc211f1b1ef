/** Builds the C and C++ fixtures with the machine's gcc/g++ at test time, in the variants the engine must load. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';

/** How the program is linked: Debian's default (dynamic PIE), fully static, static-pie, or a fixed-address executable. */
export type Link = 'dynamic' | 'static' | 'static-pie' | 'no-pie';

/** One way of building a fixture. */
export interface Variant {
  opt: 'O0' | 'O2';
  link: Link;
}

/** -O0 and -O2, dynamic and static: the four builds every C fixture is tried in. */
export const STANDARD_VARIANTS: readonly Variant[] = [
  { opt: 'O0', link: 'dynamic' }, { opt: 'O0', link: 'static' },
  { opt: 'O2', link: 'dynamic' }, { opt: 'O2', link: 'static' },
];

const LINK_FLAGS: Record<Link, string[]> = {
  dynamic: [],
  static: ['-static'],
  'static-pie': ['-static-pie'],
  'no-pie': ['-no-pie'],
};

/** A fresh private folder under the system temp dir, for one test file's binaries. */
export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `unigrind-${prefix}-`));
}

/** The variant in a file-name-safe form: "O2-static-pie". */
export function variantName(v: Variant): string {
  return `${v.opt}-${v.link}`;
}

/**
 * Compiles one source file (gcc for .c, g++ for .cc/.cpp) with debug info into outDir and returns
 * the binary's path. Throws with the compiler's messages when it fails.
 */
export function compile(src: string, outDir: string, v: Variant, extra: readonly string[] = []): string {
  const ext = extname(src);
  const cc = ext === '.c' ? 'gcc' : 'g++';
  const out = join(outDir, `${basename(src, ext)}-${variantName(v)}`);
  const args = ['-g', `-${v.opt}`, ...LINK_FLAGS[v.link], '-o', out, src, ...extra];
  try {
    execFileSync(cc, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${cc} ${args.join(' ')} failed:\n${err.stderr ?? err.message}`);
  }
  return out;
}
