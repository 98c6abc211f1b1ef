/**
 * Bad input, tried as a new user would: each must give one line on stderr that starts with
 * "unigrind:" and names the problem, a non-zero exit status, nothing on stdout, and no JavaScript
 * stack trace.
 */
import { strict as assert } from 'node:assert';
import { copyFileSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { makeTempDir } from '../support/compile';
import { describeRun, run, RunResult } from '../support/run';
import { UNIGRIND_CLI } from '../support/paths';

const work = makeTempDir('cli-errors');
after(() => rmSync(work, { recursive: true, force: true }));

/** A copy of /bin/true with some header bytes replaced (offset → bytes), executable. */
function patchedTrue(name: string, patches: Record<number, number[]>): string {
  const data = readFileSync('/bin/true');
  for (const [off, bytes] of Object.entries(patches)) Buffer.from(bytes).copy(data, Number(off));
  const p = join(work, name);
  writeFileSync(p, data);
  chmodSync(p, 0o755);
  return p;
}

function unigrind(...argv: string[]): RunResult {
  return run(process.execPath, [UNIGRIND_CLI, ...argv], { timeoutMs: 60_000 });
}

/** The shape every bad-input error must have; `names` must occur in the line (the problem, in the user's words). */
function assertOneLineError(r: RunResult, names: RegExp): void {
  const why = `\n${describeRun(r)}`;
  assert.equal(r.signal, null, `killed by a signal${why}`);
  assert.notEqual(r.status, 0, `exit status 0${why}`);
  assert.equal(r.stdout.length, 0, `wrote to stdout${why}`);
  assert.match(r.stderr, /^unigrind: [^\n]+\n$/, `not exactly one line starting with "unigrind:"${why}`);
  assert.doesNotMatch(r.stderr, /^\s+at |\.js:\d+|internal error|Error:/m, `a JavaScript error leaked out${why}`);
  assert.match(r.stderr, names, `the message does not name the problem${why}`);
}

describe('bad input gives a one-line error', () => {
  it('a missing program', () => {
    const p = join(work, 'no-such-program');
    assertOneLineError(unigrind('--tool=none', p), /no-such-program: No such file or directory/);
  });

  it('a command not on PATH', () => {
    assertOneLineError(unigrind('--tool=none', 'no-such-command-xyz'), /no-such-command-xyz: command not found/);
  });

  it('a directory', () => {
    assertOneLineError(unigrind('--tool=none', work), /is a directory/);
  });

  it('a text file', () => {
    const p = join(work, 'notes.txt');
    writeFileSync(p, 'just some text, no ELF header here\n');
    chmodSync(p, 0o755);
    assertOneLineError(unigrind('--tool=none', p), /notes\.txt: not an ELF file/);
  });

  it('a truncated ELF (/bin/true cut to 100 bytes)', () => {
    const p = join(work, 'true-100');
    writeFileSync(p, readFileSync('/bin/true').subarray(0, 100));
    chmodSync(p, 0o755);
    assertOneLineError(unigrind('--tool=none', p), /true-100: truncated ELF/);
  });

  it('a 32-bit ELF (EI_CLASS = ELFCLASS32)', () => {
    const p = patchedTrue('true-32', { 4: [1] });
    assertOneLineError(unigrind('--tool=none', p), /true-32: 32-bit ELF.*x86-64/);
  });

  it('an AArch64 ELF (e_machine = EM_AARCH64)', () => {
    const p = patchedTrue('true-aarch64', { 18: [183, 0] });
    assertOneLineError(unigrind('--tool=none', p), /true-aarch64: ELF for AArch64.*x86-64/);
  });

  it('an unknown option', () => {
    assertOneLineError(unigrind('--frobnicate=yes', '/bin/true'), /Unknown option: --frobnicate=yes/);
  });

  it('a Valgrind tool unigrind does not have', () => {
    assertOneLineError(unigrind('--tool=cachegrind', '/bin/true'), /--tool=cachegrind.*not supported/);
  });

  it('a bad option value', () => {
    assertOneLineError(unigrind('--num-callers=many', '/bin/true'), /--num-callers=many/);
  });

  it('no program at all', () => {
    assertOneLineError(unigrind(), /no program specified/);
  });

  it('options but no program', () => {
    assertOneLineError(unigrind('--tool=none', '-q'), /no program specified/);
  });

  // The opposite case, so that the checks above cannot pass on a CLI that fails on everything.
  it('a good program runs', () => {
    copyFileSync('/bin/true', join(work, 'true-ok'));
    chmodSync(join(work, 'true-ok'), 0o755);
    const r = unigrind('--tool=none', '-q', join(work, 'true-ok'));
    assert.equal(r.status, 0, describeRun(r));
    assert.equal(r.stderr, '');
  });
});
