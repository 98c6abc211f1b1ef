/**
 * Hypercalls and Xen device ioctls with bad inputs, issued directly by our own C fixture
 * (test/fixtures/xen/hypercalls.c, built against libxen-dev's public headers), under unigrind's
 * memcheck against the simulated hypervisor. Each bad case must give exactly the expected
 * SyscallParam errors — text naming the hypercall (or device ioctl), the sub-op and the member —
 * with the fixture's ioctl line (marked `@<case>` in the source) as the caller of ioctl; each
 * correctly initialised twin must give none.
 *
 * Wording (engine/xen/README.md, "Parameter names"):
 *   Syscall param ioctl(privcmd hypercall <hypercall> <sub-op> <member>) points to … byte(s)
 *   Syscall param ioctl(privcmd hypercall multicall[<i>] <hypercall> <sub-op> <member>) …
 *   Syscall param ioctl(<device> <ioctl> <member>) …
 * `*<handle>` names the buffer a guest handle points to; sysctl/domctl payload members carry
 * their `u.<payload>.` prefix; the envelope selectors (cmd, interface_version) are named after
 * the hypercall alone, since the sub-op is not known until they are read.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTempDir } from '../support/compile';
import { fixture } from '../support/paths';
import { describeRun, runUnigrind, stripPidPrefixes } from '../support/run';

const SRC = fixture('xen', 'hypercalls.c');
const work = makeTempDir('xen-hypercalls');
after(() => rmSync(work, { recursive: true, force: true }));

let bin = '';
before(() => {
  // Xen's public headers come from libxen-dev (installed by .ci/install).
  if (!existsSync('/usr/include/xen/sys/privcmd.h')) throw new Error('libxen-dev is not installed (/usr/include/xen/sys/privcmd.h missing): run .ci/install');
  bin = join(work, 'hypercalls');
  execFileSync('gcc', ['-g', '-O0', '-o', bin, SRC], { stdio: 'pipe' });
});

const P = 'ioctl(privcmd hypercall';

/** The source line carrying `@<marker>`. */
function lineOf(marker: string): number {
  const lines = readFileSync(SRC, 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(`@${marker} */`));
  if (i < 0) throw new Error(`no @${marker} in ${SRC}`);
  return i + 1;
}

interface Frame { fn: string; file?: string; line?: number }
interface ParamError { what: string; problem: 'uninitialised' | 'unaddressable'; stack: Frame[]; aux: string[] }

/** The Syscall param errors of a memcheck text log, with their stacks and address descriptions. */
function paramErrors(log: string): ParamError[] {
  const lines = stripPidPrefixes(log);
  const out: ParamError[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^Syscall param (.*) points to (uninitialised|unaddressable) byte\(s\)$/.exec(lines[i]);
    if (!m) continue;
    const stack: Frame[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const f = /^ {3}(?:at|by) 0x[0-9A-F]+: (.+?) \((.*)\)$/.exec(lines[j]);
      if (!f) break;
      const fl = /^(.+):(\d+)$/.exec(f[2]);
      stack.push(fl ? { fn: f[1], file: fl[1], line: Number(fl[2]) } : { fn: f[1] });
    }
    const aux: string[] = [];
    for (; j < lines.length && lines[j].startsWith(' '); j++) if (/^ {1,2}\S/.test(lines[j])) aux.push(lines[j].trim());
    out.push({ what: m[1], problem: m[2] as ParamError['problem'], stack, aux });
  }
  return out;
}

/** Runs one case under memcheck (leak check on: the fixture frees everything it allocates). */
function runCase(name: string): { out: string; log: string; errors: ParamError[]; summary: number } {
  const logFile = join(work, `${name}.log`);
  const r = runUnigrind(['--xen=sim', '--leak-check=full', `--log-file=${logFile}`], bin, [name]);
  assert.equal(r.status, 0, describeRun(r));
  const log = readFileSync(logFile, 'utf8');
  const s = /ERROR SUMMARY: (\d+) errors? from/.exec(log);
  assert.ok(s, `no ERROR SUMMARY\n${log}`);
  return { out: r.stdout.toString('utf8'), log, errors: paramErrors(log), summary: Number(s[1]) };
}

interface Expect {
  what: string;
  problem: ParamError['problem'];
  /** Address description: the block the first bad byte lies in. */
  aux: RegExp;
}

/**
 * The fixture frames the error's stack must start with, below ioctl: the marked line, or, for
 * memory_op, the multicall helper's ioctl line and then the marked line.
 */
function fixtureFrames(name: string): number[] {
  return name.startsWith('memop-') ? [lineOf('multicall'), lineOf(name)] : [lineOf(name)];
}

const BAD: ReadonlyArray<[string, string, Expect[]]> = [
  ['sysctl-undef', 'sysctl getdomaininfolist: max_domains never written', [
    { what: `${P} sysctl getdomaininfolist u.getdomaininfolist.max_domains)`, problem: 'uninitialised', aux: /^Address 0x[0-9a-f]+ is 12 bytes inside a block of size 136 alloc'd$/ },
  ]],
  ['sysctl-freed', 'sysctl debug_keys: the keys buffer freed', [
    { what: `${P} sysctl debug_keys *u.debug_keys.keys)`, problem: 'unaddressable', aux: /^Address 0x[0-9a-f]+ is 0 bytes inside a block of size 2 free'd$/ },
  ]],
  ['domctl-undef', 'domctl getdomaininfo: domain never written', [
    { what: `${P} domctl getdomaininfo domain)`, problem: 'uninitialised', aux: /^Address 0x[0-9a-f]+ is 8 bytes inside a block of size 144 alloc'd$/ },
  ]],
  // One error per member Xen reads, as Valgrind reports one per PRE_MEM_READ.
  ['domctl-freed', 'domctl getvcpuinfo: the whole struct freed', [
    { what: `${P} domctl cmd)`, problem: 'unaddressable', aux: /^Address 0x[0-9a-f]+ is 0 bytes inside a block of size 144 free'd$/ },
    { what: `${P} domctl interface_version)`, problem: 'unaddressable', aux: /^Address 0x[0-9a-f]+ is 4 bytes inside a block of size 144 free'd$/ },
    { what: `${P} domctl getvcpuinfo domain)`, problem: 'unaddressable', aux: /^Address 0x[0-9a-f]+ is 8 bytes inside a block of size 144 free'd$/ },
    { what: `${P} domctl getvcpuinfo u.getvcpuinfo.vcpu)`, problem: 'unaddressable', aux: /^Address 0x[0-9a-f]+ is 16 bytes inside a block of size 144 free'd$/ },
  ]],
  ['memop-undef', 'multicall → memory_op populate_physmap: the gpfn array never written', [
    { what: `${P} multicall[0] memory_op populate_physmap *extent_start)`, problem: 'uninitialised', aux: /^Address 0x[0-9a-f]+ is 0 bytes inside a block of size 16 alloc'd$/ },
  ]],
  ['memop-freed', 'multicall → memory_op populate_physmap: the gpfn array freed', [
    { what: `${P} multicall[0] memory_op populate_physmap *extent_start)`, problem: 'unaddressable', aux: /^Address 0x[0-9a-f]+ is 0 bytes inside a block of size 16 free'd$/ },
  ]],
  ['version-undef', 'xen_version build_id: len never written', [
    { what: `${P} xen_version build_id len)`, problem: 'uninitialised', aux: /^Address 0x[0-9a-f]+ is 0 bytes inside a block of size 68 alloc'd$/ },
  ]],
  ['version-freed', 'xen_version get_features: the struct freed', [
    { what: `${P} xen_version get_features submap_idx)`, problem: 'unaddressable', aux: /^Address 0x[0-9a-f]+ is 0 bytes inside a block of size 8 free'd$/ },
  ]],
  ['evtchn-undef', '/dev/xen/evtchn BIND_VIRQ: virq never written', [
    { what: 'ioctl(evtchn bind_virq virq)', problem: 'uninitialised', aux: /^Address 0x[0-9a-f]+ is 0 bytes inside a block of size 4 alloc'd$/ },
  ]],
  ['evtchn-freed', '/dev/xen/evtchn NOTIFY: the struct freed', [
    { what: 'ioctl(evtchn notify port)', problem: 'unaddressable', aux: /^Address 0x[0-9a-f]+ is 0 bytes inside a block of size 4 free'd$/ },
  ]],
  ['gntdev-undef', '/dev/xen/gntdev MAP_GRANT_REF: refs[0] never written', [
    { what: 'ioctl(gntdev map_grant_ref refs)', problem: 'uninitialised', aux: /^Address 0x[0-9a-f]+ is 16 bytes inside a block of size 24 alloc'd$/ },
  ]],
  ['gntdev-freed', '/dev/xen/gntdev SET_MAX_GRANTS: the struct freed', [
    { what: 'ioctl(gntdev set_max_grants count)', problem: 'unaddressable', aux: /^Address 0x[0-9a-f]+ is 0 bytes inside a block of size 4 free'd$/ },
  ]],
];

describe('hypercalls and Xen ioctls with bad inputs: the expected SyscallParam error at the right line', () => {
  for (const [name, title, expected] of BAD) {
    it(`${name}: ${title}`, () => {
      const r = runCase(name);
      assert.equal(r.summary, expected.length, `error count\n${r.log}`);
      assert.deepEqual(r.errors.map((e) => [e.what, e.problem]), expected.map((e) => [e.what, e.problem]), r.log);
      for (const [k, e] of r.errors.entries()) {
        // Valgrind's shape: the error is reported at the ioctl call, then its callers.
        assert.equal(e.stack[0]?.fn, 'ioctl', `top frame\n${r.log}`);
        const own = e.stack.slice(1, 1 + fixtureFrames(name).length);
        assert.deepEqual(own.map((f) => `${f.file}:${f.line}`), fixtureFrames(name).map((l) => `hypercalls.c:${l}`), `caller of ioctl\n${r.log}`);
        assert.ok(e.aux.some((a) => expected[k].aux.test(a)), `address description ${expected[k].aux}\n${r.log}`);
      }
    });
  }
});

describe('the correctly initialised twins: no error, and the results come back', () => {
  const lines = (out: string): string[] => out.split('\n').filter(Boolean);

  it('sysctl-ok: getdomaininfolist returns the built-in host\'s domains; debug_keys is accepted', () => {
    const r = runCase('sysctl-ok');
    assert.equal(r.summary, 0, r.log);
    assert.deepEqual(lines(r.out), ['getdomaininfolist 0', 'domain 0 running', 'domain 1', 'debug_keys 0']);
  });

  it('domctl-ok: getdomaininfo and getvcpuinfo of Domain-0', () => {
    const r = runCase('domctl-ok');
    assert.equal(r.summary, 0, r.log);
    assert.deepEqual(lines(r.out), ['getdomaininfo 0', 'domain 0 vcpus 4', 'getvcpuinfo 0', 'vcpu 0 online']);
  });

  it('memop-ok: memory_op through a one-entry multicall (populate_physmap, current_reservation)', () => {
    const r = runCase('memop-ok');
    assert.equal(r.summary, 0, r.log);
    // Domain 1 is at its maximum, so no extent is populated; Domain-0 has 4 GiB = 1048576 pages.
    assert.deepEqual(lines(r.out), ['populate_physmap 0', 'current_reservation 1048576']);
  });

  it('version-ok: build_id, get_features and extraversion', () => {
    const r = runCase('version-ok');
    assert.equal(r.summary, 0, r.log);
    assert.deepEqual(lines(r.out), ['build_id 20', 'deadbeef00000000000000000000000000000000', 'get_features 0', 'submap 0 nonzero', 'extraversion 0', 'extraversion .5-sim']);
  });

  it('evtchn-ok: BIND_VIRQ then NOTIFY on the bound port', () => {
    const r = runCase('evtchn-ok');
    assert.equal(r.summary, 0, r.log);
    assert.deepEqual(lines(r.out), ['bind_virq 0', 'notify 0']);
  });

  it('gntdev-ok: SET_MAX_GRANTS, then MAP_GRANT_REF of a page granted through gntalloc', () => {
    const r = runCase('gntdev-ok');
    assert.equal(r.summary, 0, r.log);
    assert.deepEqual(lines(r.out), ['set_max_grants 0', 'map_grant_ref 0', 'index 0']);
  });
});
