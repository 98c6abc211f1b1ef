/**
 * The engine runs real programs exactly: for each program, `unigrind --tool=none -q` must give the
 * same stdout (byte for byte), stderr and exit status as the native run, which is the oracle. Fixtures
 * are compiled here with the machine's gcc/g++ in several variants, so the loader sees static,
 * static-pie, dynamic PIE and non-PIE executables at -O0 and -O2. The fatal-signal report is compared
 * with real Valgrind's, and Debian's real `xl` must fail the same way as natively on a host without Xen.
 */
import { strict as assert } from 'node:assert';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { compile, makeTempDir, STANDARD_VARIANTS, Variant, variantName } from '../support/compile';
import { fixture } from '../support/paths';
import { describeRun, linesBetween, run, RunOptions, runUnigrind, runValgrind, stripPidPrefixes } from '../support/run';
import { ensureXenPackages } from '../support/xen-packages';

const TOOL_NONE = ['--tool=none', '-q'];
const work = makeTempDir('engine');
after(() => rmSync(work, { recursive: true, force: true }));

/**
 * Runs cmd natively and under unigrind with the same environment and asserts the same stdout bytes,
 * stderr text and exit status. With -q, unigrind itself must add nothing to stderr: an unhandled
 * syscall warning or an engine message shows up here as a difference.
 */
function assertSameAsNative(cmd: string, args: readonly string[], opts: RunOptions = {}, toolArgs = TOOL_NONE): void {
  const native = run(cmd, args, opts);
  const ug = runUnigrind(toolArgs, cmd, args, opts);
  const both = `\n=== native ${describeRun(native)}\n=== unigrind ${describeRun(ug)}`;
  assert.ok(ug.stdout.equals(native.stdout), `stdout differs${both}`);
  assert.equal(ug.stderr, native.stderr, `stderr differs${both}`);
  assert.equal(ug.status, native.status, `exit status differs${both}`);
  assert.equal(ug.signal, native.signal, `terminating signal differs${both}`);
}

describe('system programs under --tool=none match the native run', () => {
  it('/bin/true', () => assertSameAsNative('/bin/true', []));
  it('/bin/false (exit status 1)', () => assertSameAsNative('/bin/false', []));
  it('/bin/echo', () => assertSameAsNative('/bin/echo', ['hello', 'two  spaces', '-e', 'tab\\there']));
  it('/bin/ls -la /usr/lib', () => assertSameAsNative('/bin/ls', ['-la', '/usr/lib']));
  it('/usr/bin/sort of a file', () => {
    const f = join(work, 'words.txt');
    // Mixed case, duplicates, an empty line, numbers and non-ASCII: collation and buffering both matter.
    writeFileSync(f, ['pear', 'Apple', 'apple', '', 'zebra', '10', '9', 'Ünïcode', 'banana', 'apple', 'a b c'].join('\n') + '\n');
    assertSameAsNative('/usr/bin/sort', [f]);
  });
  it('/usr/bin/python3 -c print(sum(range(10**5)))', () => {
    assertSameAsNative('/usr/bin/python3', ['-c', 'print(sum(range(10**5)))']);
  });
  it('/bin/sed (closes its stdout before exiting: nothing may complain about it after)', () => {
    assertSameAsNative('/bin/sed', ['-e', 's/o/0/g', '/etc/hostname', '/etc/host.conf']);
  });
  it('/usr/bin/nm -D (bfd dlopens its plugins: a library mapped where another was)', () => {
    assertSameAsNative('/usr/bin/nm', ['-D', '/lib/x86_64-linux-gnu/libz.so.1']);
  });
  it('/bin/tar -cvf (creat(2) makes the archive)', () => {
    assertSameAsNative('/bin/tar', ['-cvf', join(work, 'etc.tar'), '-C', '/etc', 'hostname', 'passwd']);
  });
});

interface FixtureCase {
  /** Source file under test/fixtures/engine. */
  src: string;
  args: string[];
  variants: readonly Variant[];
  /** Extra compiler/linker flags. */
  flags?: string[];
}

const FIXTURES: FixtureCase[] = [
  {
    // Arguments with spaces, an empty one and UTF-8 check argv layout; hello also exits 7.
    src: 'hello.c', args: ['one', 'two words', '', 'ünï cödé', '  lead and trail  '],
    variants: [...STANDARD_VARIANTS, { opt: 'O2', link: 'static-pie' }, { opt: 'O2', link: 'no-pie' }],
  },
  { src: 'exceptions.cc', args: [], variants: STANDARD_VARIANTS },
  { src: 'threads.c', args: [], variants: STANDARD_VARIANTS, flags: ['-pthread'] },
  { src: 'signals.c', args: [], variants: STANDARD_VARIANTS },
  { src: 'epoll.c', args: [], variants: STANDARD_VARIANTS, flags: ['-pthread'] },
];

describe('gcc-built fixtures under --tool=none match the native run', () => {
  for (const fx of FIXTURES) {
    for (const v of fx.variants) {
      it(`${fx.src} ${variantName(v)}`, () => {
        const bin = compile(fixture('engine', fx.src), work, v, fx.flags);
        assertSameAsNative(bin, fx.args);
      });
    }
  }
});

describe('a NULL dereference is reported as Valgrind reports it', () => {
  const FIRST = 'Process terminating with default action of signal 11 (SIGSEGV)';
  const LAST = 'The main thread stack size used in this run was 8388608.';
  for (const v of STANDARD_VARIANTS) {
    it(`null_deref.c ${variantName(v)}: same report as valgrind --tool=none, death by SIGSEGV`, () => {
      const bin = compile(fixture('engine', 'null_deref.c'), work, v);
      const vg = runValgrind(TOOL_NONE, bin, []);
      const ug = runUnigrind(TOOL_NONE, bin, []);
      const both = `\n=== valgrind ${describeRun(vg)}\n=== unigrind ${describeRun(ug)}`;
      const expected = linesBetween(stripPidPrefixes(vg.stderr), FIRST, LAST);
      const actual = linesBetween(stripPidPrefixes(ug.stderr), FIRST, LAST);
      assert.ok(expected, `valgrind printed no fatal-signal report${both}`);
      // The oracle itself must carry a symbolized stack, or agreeing with it would prove little.
      assert.ok(expected.some((l) => /^ {3}at 0x[0-9A-F]+: \w+ \(null_deref\.c:\d+\)$/.test(l)), `valgrind's stack is not symbolized${both}`);
      assert.deepEqual(actual, expected, `report differs${both}`);
      assert.equal(vg.signal, 'SIGSEGV', `valgrind did not die by SIGSEGV${both}`);
      assert.equal(ug.signal, 'SIGSEGV', `unigrind did not die by SIGSEGV${both}`);
      assert.ok(ug.stdout.equals(vg.stdout), `stdout differs${both}`);
    });
  }
});

describe("Debian's real xl", () => {
  it('xl list under --xen=host fails as natively on a host without Xen ("cannot init xl context", exit 1)', (t) => {
    if (existsSync('/dev/xen/privcmd')) {
      t.skip('this host runs Xen: xl list would succeed natively');
      return;
    }
    const xen = ensureXenPackages();
    const opts: RunOptions = { env: { ...process.env, LD_LIBRARY_PATH: xen.libDir } };
    const native = run(xen.xl, ['list'], opts);
    // The premise of the test: natively, on this host, libxl cannot reach a hypervisor.
    assert.equal(native.status, 1, `native xl list did not exit 1\n${describeRun(native)}`);
    assert.match(native.stderr, /cannot init xl context/);
    // --xen=host: the guest meets the host's (absent) /dev/xen devices, as natively; without it, a
    // host without Xen gets the simulated hypervisor, where xl list succeeds.
    assertSameAsNative(xen.xl, ['list'], opts, [...TOOL_NONE, '--xen=host']);
  });
});
