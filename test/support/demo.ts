/**
 * `npm run demo`: compiles the bundled example (test/fixtures/demo/demo.c: a heap overflow, a leak
 * and a NULL dereference) with gcc into a temporary folder and runs it under unigrind, showing
 * unigrind's report as a user would see it.
 *
 *   node dist/test/support/demo.js
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { compile, makeTempDir } from './compile';
import { fixture, UNIGRIND_CLI } from './paths';

/**
 * The tool the demo runs: memcheck with the full leak report, so all three bugs of the example
 * show (the heap overflow, the leak, and the NULL dereference with its fatal-signal report).
 */
const TOOL_ARGS = ['--tool=memcheck', '--leak-check=full'];

/** Builds and runs the demo; returns the exit status for the demo itself. */
export function runDemo(): number {
  const dir = makeTempDir('demo');
  try {
    const bin = compile(fixture('demo', 'demo.c'), dir, { opt: 'O0', link: 'dynamic' });
    process.stdout.write(`unigrind demo: built test/fixtures/demo/demo.c with gcc -g -O0 as ${bin}\n`);
    process.stdout.write(`$ unigrind ${TOOL_ARGS.join(' ')} ${bin}\n\n`);
    const r = spawnSync(process.execPath, [UNIGRIND_CLI, ...TOOL_ARGS, bin], { stdio: 'inherit' });
    if (r.error) throw r.error;
    // The example ends in a NULL dereference, so the expected ending is death by SIGSEGV, as under
    // Valgrind; anything else (an internal error of unigrind, exit status 1) fails the demo.
    if (r.signal === 'SIGSEGV') {
      process.stdout.write('\nunigrind demo: the program was killed by SIGSEGV, as natively and under Valgrind.\n');
      return 0;
    }
    process.stderr.write(`unigrind demo: unexpected end: status ${r.status}, signal ${r.signal}\n`);
    return 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) process.exitCode = runDemo();
