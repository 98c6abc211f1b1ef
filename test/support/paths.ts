/** Where things are, for tests, the benchmark and the demo: found from this file, so they work from any cwd. */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

function findRoot(start: string): string {
  // Compiled files live in dist/test/support, sources in test/support: walk up to package.json.
  let d = start;
  while (!existsSync(join(d, 'package.json'))) {
    const up = dirname(d);
    if (up === d) throw new Error(`no package.json above ${start}`);
    d = up;
  }
  return d;
}

/** The repository root. */
export const REPO_ROOT = findRoot(__dirname);

/** The compiled CLI, run as `node UNIGRIND_CLI [options] prog [args]`. */
export const UNIGRIND_CLI = join(REPO_ROOT, 'dist/engine/cli/main.js');

/** Sources of the C/C++ fixtures, by folder: fixture('engine', 'hello.c'). */
export function fixture(...parts: string[]): string {
  return join(REPO_ROOT, 'test/fixtures', ...parts);
}

/** A folder under test/cache (gitignored), created if needed. */
export function cacheDir(...parts: string[]): string {
  const d = join(REPO_ROOT, 'test/cache', ...parts);
  mkdirSync(d, { recursive: true });
  return d;
}
