/**
 * Debian's real `xl` 4.17 and xenstore tools under unigrind's memcheck (the default tool, with
 * `--leak-check=full`), against the simulated hypervisor and xenstore (engine/xen-wiring). Every
 * expectation is derived from the simulator's configuration (the built-in host, or
 * test/fixtures/xen/sim-three-domains.json), applying xl's own formatting rules, so a change of
 * config changes the expectations with it.
 *
 * Every run must end with `ERROR SUMMARY: 0 errors`: memcheck's findings on the toolstack must be
 * true ones, and none is expected from these commands. An error that is a real defect of the
 * toolstack would be listed in TOOLSTACK_DEFECTS with the reason; a false positive is fixed in
 * unigrind (engine/xen's declarations say which bytes Xen reads), never listed there.
 *
 * Most cases spawn the CLI. A few run the guest in this process, to share one simulated host
 * between two programs (state changes made by `xl pause` and `xenstore-write` are then visible
 * to the next program) and to watch the parameter checks reach the tool's observer.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTempDir } from '../support/compile';
import { fixture, UNIGRIND_CLI } from '../support/paths';
import { describeRun, run, RunOptions, RunResult, runUnigrind, stripPidPrefixes } from '../support/run';
import { ensureXenPackages, XenPackagePaths } from '../support/xen-packages';
import { DEFAULT_CONFIG, DomainConfig, formatCoverage, loadConfig, SimConfig, SimHypervisor, XenDevices } from '../../engine/xen';
import { XenWiring } from '../../engine/xen-wiring';
import { launch } from '../../engine/process/launch';
import { Log } from '../../engine/process/log';
import type { SyscallObserver } from '../../engine/kernel/syscall-observer';
import type { VcpuConfig } from '../../engine/xen/sim/config';

const work = makeTempDir('xen-xl');
after(() => rmSync(work, { recursive: true, force: true }));

let xen: XenPackagePaths;
let env: NodeJS.ProcessEnv;
before(() => {
  xen = ensureXenPackages();
  env = { ...process.env, LD_LIBRARY_PATH: xen.libDir };
});

const THREE = fixture('xen', 'sim-three-domains.json');
const threeConfig = (): SimConfig => loadConfig(readFileSync(THREE, 'utf8'));

/** xl's one complaint about the host rather than the hypervisor: Debian's xl.conf is not installed here. */
const HOST_NOISE = /^Failed to read config file: \/etc\/xen\/xl\.conf: No such file or directory$/;

/**
 * Errors memcheck reports on these runs that are real defects of the toolstack, by the first line
 * of the error ("Syscall param …", "Conditional jump …") → why it is a defect. Empty: none of
 * the commands below has one. A false positive never goes here; it is fixed in unigrind.
 */
const TOOLSTACK_DEFECTS: ReadonlyMap<string, string> = new Map();

/** A run with memcheck's log (written with --log-file, apart from the program's own stderr). */
interface UgResult extends RunResult { log: string }

/** The error headlines of a memcheck log (the unindented line that starts each error). */
function errorHeadlines(log: string): string[] {
  const lines = stripPidPrefixes(log);
  const out: string[] = [];
  for (let i = 0; i + 1 < lines.length; i++) {
    if (lines[i] !== '' && !lines[i].startsWith(' ') && /^ {3}at 0x[0-9A-F]+: /.test(lines[i + 1])
      // Loss records of kinds that are not errors (--errors-for-leak-kinds=definite,possible).
      && !/are (still reachable|indirectly lost) in loss record/.test(lines[i])) out.push(lines[i]);
  }
  return out;
}

/** memcheck found nothing but the listed toolstack defects: ERROR SUMMARY: 0 errors otherwise. */
function assertNoFalseErrors(prog: string, args: readonly string[], r: RunResult, log: string): void {
  const summary = /ERROR SUMMARY: (\d+) errors? from/.exec(log);
  assert.ok(summary, `no ERROR SUMMARY for ${prog} ${args.join(' ')}\n${describeRun(r)}\n--- memcheck log\n${log}`);
  const unexplained = errorHeadlines(log).filter((h) => !TOOLSTACK_DEFECTS.has(h));
  if (Number(summary[1]) !== 0 || unexplained.length) {
    assert.deepEqual(unexplained, [], `memcheck errors in ${prog} ${args.join(' ')}\n--- memcheck log\n${log}`);
  }
}

let logNo = 0;
/**
 * Runs a Xen tool under unigrind's memcheck with the simulated host (optionally a config file),
 * xl's debug info from the xen-utils-4.17-dbg package, and the log in its own file; asserts that
 * memcheck reported no error (see TOOLSTACK_DEFECTS).
 */
function ug(prog: string, args: readonly string[], config?: string, opts: RunOptions = {}, extra: readonly string[] = []): UgResult {
  const logFile = join(work, `memcheck-${logNo++}.log`);
  const r = runUnigrind(['--leak-check=full', `--log-file=${logFile}`, `--extra-debuginfo-path=${xen.debugDir}`, '--xen=sim',
    ...(config ? [`--xen-config=${config}`] : []), ...extra], prog, args, { env, ...opts });
  const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
  assertNoFalseErrors(prog, args, r, log);
  return { ...r, log };
}

/** stdout of a successful run whose stderr has nothing but host noise. */
function ok(r: RunResult): string {
  const extra = r.stderr.split('\n').filter((l) => l !== '' && !HOST_NOISE.test(l));
  assert.equal(r.status, 0, describeRun(r));
  assert.deepEqual(extra, [], `unexpected stderr\n${describeRun(r)}`);
  return r.stdout.toString('utf8');
}

// --- what xl prints, from the configuration

interface Vcpu { online: boolean; running: boolean; blocked: boolean; cpu: number; timeNs: number }

/** A domain's vCPUs as configured (nrVcpus defaults: blocked, on cpu i mod nr_cpus). */
function vcpusOf(d: DomainConfig, cfg: SimConfig): Vcpu[] {
  const list: VcpuConfig[] = d.vcpus ?? Array.from({ length: d.nrVcpus ?? 1 }, (_, i) => ({ state: 'blocked' as const, cpu: i % cfg.host.nrCpus }));
  return list.map((v) => {
    const state = v.state ?? 'blocked';
    return { online: state !== 'offline', running: state === 'running', blocked: state === 'blocked', cpu: v.cpu ?? 0, timeNs: v.timeNs ?? 0 };
  });
}

/** xl list's six state letters: running, blocked, paused, shutdown, shutdown reason, dying. */
function stateLetters(d: DomainConfig, cfg: SimConfig): string {
  const online = vcpusOf(d, cfg).filter((v) => v.online);
  // Xen: a domain is blocked when all its online vCPUs are, running when one runs (and not paused).
  const running = !d.paused && online.some((v) => v.running);
  const blocked = online.length > 0 && online.every((v) => v.blocked);
  const reason = d.shutdownReason === undefined ? '-' : '-rscwR'[d.shutdownReason] ?? '?';
  return `${running ? 'r' : '-'}${blocked ? 'b' : '-'}${d.paused ? 'p' : '-'}${d.shutdownReason !== undefined ? 's' : '-'}${reason}${d.dying ? 'd' : '-'}`;
}

const seconds = (ns: number): string => (ns / 1e9).toFixed(1);
const sortedDomains = (cfg: SimConfig): DomainConfig[] => [...cfg.domains].sort((a, b) => a.id - b.id);
const nameOf = (d: DomainConfig): string => d.name ?? (d.id === 0 ? 'Domain-0' : '(null)');

/** The rows `xl list` must print, as whitespace-separated fields. */
function expectedList(cfg: SimConfig): string[][] {
  return sortedDomains(cfg).map((d) => {
    const v = vcpusOf(d, cfg);
    const memMb = Math.floor(((d.memoryKb) + (d.outstandingKb ?? 0)) / 1024);
    const time = v.reduce((a, x) => a + x.timeNs, 0);
    return [nameOf(d), String(d.id), String(memMb), String(v.filter((x) => x.online).length), stateLetters(d, cfg), seconds(time)];
  });
}

const fields = (text: string): string[][] => text.split('\n').filter((l) => l.trim() !== '').map((l) => l.trim().split(/\s+/));

/** xl's uptime_to_string (long form). */
function uptimeText(s: number): string {
  const day = Math.floor(s / 86400);
  const hour = Math.floor((s % 86400) / 3600);
  const min = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  const hms = `${String(hour).padStart(2)}:${String(min).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
  return day > 1 ? `${day} days, ${hms}` : day === 1 ? `${day} day, ${hms}` : hms;
}

// --- the tests

describe('xl against the simulated hypervisor (memcheck)', () => {
  for (const [label, file, cfg] of [['built-in host', undefined, () => loadConfig()], ['sim-three-domains.json', THREE, threeConfig]] as const) {
    it(`xl list: real xl's header and every configured domain (${label})`, () => {
      const out = ok(ug(xen.xl, ['list'], file));
      const [header, ...rows] = out.split('\n').filter((l) => l !== '');
      assert.equal(header, 'Name                                        ID   Mem VCPUs\tState\tTime(s)');
      assert.deepEqual(fields(rows.join('\n')), expectedList(cfg()));
    });

    it(`xl vcpu-list: every vCPU with its pCPU, state and time (${label})`, () => {
      const c = cfg();
      const [header, ...rows] = ok(ug(xen.xl, ['vcpu-list'], file)).split('\n').filter((l) => l !== '');
      assert.match(header, /^Name\s+ID\s+VCPU\s+CPU State\s+Time\(s\) Affinity \(Hard \/ Soft\)$/);
      const expected = sortedDomains(c).flatMap((d) => vcpusOf(d, c).map((v, i) => [
        nameOf(d), String(d.id), String(i), v.online ? String(v.cpu) : '-',
        `${v.online && v.running ? 'r' : '-'}${v.online && v.blocked ? 'b' : '-'}${v.online ? '-' : 'p'}`,
        seconds(v.timeNs), 'all', '/', 'all',
      ]));
      assert.deepEqual(fields(rows.join('\n')), expected);
    });

    it(`xl info: the host, Xen version and build as configured (${label})`, () => {
      const c = cfg();
      const info = new Map(ok(ug(xen.xl, ['info'], file)).split('\n').filter((l) => l.includes(':'))
        .map((l) => [l.slice(0, l.indexOf(':')).trim(), l.slice(l.indexOf(':') + 1).trim()] as [string, string]));
      const x = c.xen;
      const h = c.host;
      const usedKb = c.domains.reduce((a, d) => a + d.memoryKb + (d.outstandingKb ?? 0), 0) + h.xenReservedKb;
      const expected: Record<string, string> = {
        host: os.hostname(), release: os.release(), machine: 'x86_64',
        nr_cpus: String(h.nrCpus), max_cpu_id: String(h.nrCpus - 1), nr_nodes: String(h.nrNodes),
        cores_per_socket: String(h.coresPerSocket), threads_per_core: String(h.threadsPerCore),
        cpu_mhz: `${Math.floor(h.cpuKhz / 1000)}.${String(h.cpuKhz % 1000).padStart(3, '0')}`,
        hw_caps: h.hwCap.map((w) => (w >>> 0).toString(16).padStart(8, '0')).join(':'),
        virt_caps: h.capabilities.join(' '),
        total_memory: String(Math.floor(h.totalKb / 1024)), free_memory: String(Math.floor((h.totalKb - usedKb) / 1024)),
        free_cpus: '0',
        xen_major: String(x.major), xen_minor: String(x.minor), xen_extra: x.extra, xen_version: `${x.major}.${x.minor}${x.extra}`,
        xen_caps: x.capabilities, xen_scheduler: c.cpupools.find((p) => p.id === 0)!.scheduler, xen_pagesize: '4096',
        platform_params: `virt_start=${x.virtStart}`, xen_changeset: x.changeset, xen_commandline: x.commandline,
        cc_compiler: x.compiler, cc_compile_by: x.compileBy, cc_compile_domain: x.compileDomain, cc_compile_date: x.compileDate,
        build_id: x.buildId,
      };
      for (const [k, v] of Object.entries(expected)) assert.equal(info.get(k), v, `xl info ${k}`);
    });

    it(`xl dmesg: the console ring's text (${label})`, () => {
      assert.equal(ok(ug(xen.xl, ['dmesg'], file)), cfg().console.text);
    });

    it(`xl domid / xl domname: names and ids both ways (${label})`, () => {
      for (const d of cfg().domains) {
        assert.equal(ok(ug(xen.xl, ['domid', nameOf(d)], file)), `${d.id}\n`);
        assert.equal(ok(ug(xen.xl, ['domname', String(d.id)], file)), `${nameOf(d)}\n`);
      }
    });

    it(`xl sched-credit2: pool rate limit and every domain's weight and cap (${label})`, () => {
      const c = cfg();
      const pool = c.cpupools.find((p) => p.id === 0)!;
      const [poolLine, header, ...rows] = ok(ug(xen.xl, ['sched-credit2'], file)).split('\n').filter((l) => l !== '');
      assert.equal(poolLine, `Cpupool ${pool.name}: ratelimit=${pool.credit2?.ratelimitUs ?? 1000}us`);
      assert.match(header, /^Name\s+ID Weight\s+Cap$/);
      assert.deepEqual(fields(rows.join('\n')), sortedDomains(c).map((d) => [nameOf(d), String(d.id), String((d.credit2 ?? {}).weight ?? 256), String((d.credit2 ?? {}).cap ?? 0)]));
    });
  }

  it('xl uptime: dom0 from the simulated /proc/uptime (frozen clock), every domain listed', () => {
    const c = threeConfig();
    const [header, ...rows] = ok(ug(xen.xl, ['uptime'], THREE)).split('\n').filter((l) => l !== '');
    assert.match(header, /^Name\s+ID Uptime$/);
    assert.deepEqual(rows.map((l) => l.trim().split(/\s+/).slice(0, 2)), sortedDomains(c).map((d) => [nameOf(d), String(d.id)]));
    const dom0 = rows.find((l) => l.startsWith('Domain-0'))!;
    assert.equal(dom0.replace(/^Domain-0\s+0\s/, '').trim(), uptimeText(c.clock.now! - c.clock.bootTime).trim());
  });

  it('xl list -l: a JSON array; each domain is looked up by its id and UUID', () => {
    const r = ug(xen.xl, ['list', '-l']);
    assert.equal(r.status, 0, describeRun(r));
    const parsed: unknown = JSON.parse(r.stdout.toString('utf8'));
    assert.ok(Array.isArray(parsed));
    const sim = new SimHypervisor();
    for (const d of sim.sortedDomains()) {
      const listed = (parsed as Array<{ domid?: number }>).some((e) => e.domid === d.id);
      // Without a dom0's /var/lib/xen (absent here) libxl cannot lock or read the domain's saved
      // configuration and says so, naming the domain's id and UUID as it got them from Xen.
      const named = r.stderr.includes(`userdata-l.${d.id}.${d.uuidText()}.`) || r.stderr.includes(`Domain ${d.id}:Fail to get domain configuration`)
        || (d.id === 0 && r.stderr.includes('Fail to get domain configuration'));
      assert.ok(listed || named, `domain ${d.id} neither listed nor named\n${describeRun(r)}`);
    }
  });

  it('xl list -v: UUIDs as configured', () => {
    const rows = fields(ok(ug(xen.xl, ['list', '-v'], THREE))).slice(1);
    const sim = new SimHypervisor(threeConfig());
    assert.deepEqual(rows.map((f) => [f[1], f[6]]), sim.sortedDomains().map((d) => [String(d.id), d.uuidText()]));
  });

  it('xl pause / unpause: Xen accepts a pause and refuses to unpause a domain it has not paused', () => {
    const guest = loadConfig().domains.find((d) => d.id !== 0 && !d.paused)!;
    ok(ug(xen.xl, ['pause', nameOf(guest)]));
    const r = ug(xen.xl, ['unpause', nameOf(guest)]);
    assert.match(r.stderr, new RegExp(`Domain ${guest.id}:Unpausing domain: Invalid argument`), describeRun(r));
    // Paused in the configuration: the unpause is accepted.
    const paused = join(work, 'guest-paused.json');
    writeFileSync(paused, JSON.stringify({ domains: DEFAULT_CONFIG.domains.map((d) => (d.id === guest.id ? { ...d, paused: true } : d)) }));
    ok(ug(xen.xl, ['unpause', nameOf(guest)], paused));
  });
});

/** The loss record whose headline matches `kind`, as text (headline and stack), from a memcheck log. */
function lossRecord(log: string, kind: RegExp): string | undefined {
  const lines = stripPidPrefixes(log);
  const i = lines.findIndex((l) => kind.test(l) && /in loss record/.test(l));
  if (i < 0) return undefined;
  let j = i + 1;
  while (j < lines.length && /^ {3}(at|by) 0x/.test(lines[j])) j++;
  return lines.slice(i, j).join('\n');
}

describe('stacks inside xl: file:line from xen-utils-4.17-dbg', () => {
  // xl keeps the name that find_domain looked up in a global (common_domname), so `xl pause`
  // ends with one still-reachable block allocated inside xl: not an error (only definite and
  // possible leaks are), but its loss record is a stack through xl's own code.
  const args = (): string[] => ['pause', nameOf(loadConfig().domains.find((d) => d.id !== 0 && !d.paused)!)];

  it('--extra-debuginfo-path=<cache>/usr/lib/debug: xl frames have their function, file and line', () => {
    const r = ug(xen.xl, args(), undefined, {}, ['--show-leak-kinds=all']);
    assert.equal(r.status, 0, describeRun(r));
    const rec = lossRecord(r.log, /still reachable/);
    assert.ok(rec, `no still-reachable loss record\n${r.log}`);
    // libxenstore and libxenlight have no debug info in Debian's main archive (reference §9.3):
    // their exported functions are named from the dynamic symbol table, without a line.
    assert.match(rec, /by 0x[0-9A-F]+: libxl_domid_to_name \(in \S+libxenlight\.so\.4\.17\.0\)/);
    assert.match(rec, /by 0x[0-9A-F]+: find_domain \(xl_utils\.c:\d+\)/);
    assert.match(rec, /by 0x[0-9A-F]+: main_pause \(xl_vmcontrol\.c:\d+\)/);
    assert.match(rec, /by 0x[0-9A-F]+: main \(xl\.c:\d+\)/);
  });

  it('without the option libdw finds no debug file for the stripped xl: the same frames are ???', (t) => {
    const id = /Build ID: ([0-9a-f]+)/.exec(execFileSync('readelf', ['-n', xen.xl], { encoding: 'utf8' }))?.[1] ?? '';
    if (existsSync(`/usr/lib/debug/.build-id/${id.slice(0, 2)}/${id.slice(2)}.debug`)) return t.skip('xen-utils-4.17-dbg is installed on this machine');
    const logFile = join(work, 'no-dbg.log');
    const r = runUnigrind(['--leak-check=full', '--show-leak-kinds=all', `--log-file=${logFile}`, '--xen=sim'], xen.xl, args(), { env });
    assert.equal(r.status, 0, describeRun(r));
    const rec = lossRecord(readFileSync(logFile, 'utf8'), /still reachable/) ?? '';
    assert.doesNotMatch(rec, /find_domain|xl_utils\.c/);
    assert.match(rec, /by 0x[0-9A-F]+: \?\?\? \(in \S+\/bin\/xl\)/);
  });
});

describe('xenstore tools against the simulated xenstored (memcheck)', () => {
  it('xenstore-read: each domain\'s name and the pool name', () => {
    const c = loadConfig();
    const paths = [...sortedDomains(c).map((d) => `/local/domain/${d.id}/name`), '/local/pool/0/name'];
    assert.equal(ok(ug(xen.xenstoreTools['xenstore-read'], paths)), [...sortedDomains(c).map(nameOf), c.cpupools[0].name].map((s) => `${s}\n`).join(''));
  });

  it('xenstore-list /local/domain: the configured domain ids', () => {
    assert.deepEqual(ok(ug(xen.xenstoreTools['xenstore-list'], ['/local/domain'], THREE)).split('\n').filter(Boolean),
      sortedDomains(threeConfig()).map((d) => String(d.id)));
  });

  it('xenstore-ls -f: names, ids and the configuration\'s own nodes', () => {
    const c = threeConfig();
    const out = ok(ug(xen.xenstoreTools['xenstore-ls'], ['-f'], THREE));
    const want = [
      ...c.domains.flatMap((d) => [`/local/domain/${d.id}/name = "${nameOf(d)}"`, `/local/domain/${d.id}/domid = "${d.id}"`]),
      ...c.cpupools.map((p) => `/local/pool/${p.id}/name = "${p.name}"`),
      ...Object.entries(c.xenstore).map(([k, v]) => `${k} = "${v}"`),
    ];
    const lines = new Set(out.split('\n'));
    for (const w of want) assert.ok(lines.has(w), `missing ${w}\n${out}`);
  });

  it('xenstore-exists / -write / -rm: exit statuses', () => {
    assert.equal(ug(xen.xenstoreTools['xenstore-exists'], ['/local/domain/0/name']).status, 0);
    assert.equal(ug(xen.xenstoreTools['xenstore-exists'], ['/local/domain/0/no-such-node']).status, 1);
    ok(ug(xen.xenstoreTools['xenstore-write'], ['/local/domain/0/unigrind', 'yes', '/tool/unigrind/x', 'y']));
    ok(ug(xen.xenstoreTools['xenstore-rm'], ['/local/domain/1']));
    const r = ug(xen.xenstoreTools['xenstore-read'], ['/local/domain/0/no-such-node']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /couldn't read path \/local\/domain\/0\/no-such-node/);
  });

  it('xenstore-watch -n 1: the initial event (watch thread, futexes, blocking reads on the connection)', () => {
    assert.equal(ok(ug(xen.xenstoreTools['xenstore-watch'], ['-n', '1', '/local'], undefined, { timeoutMs: 60_000 })), '/local\n');
  });
});

describe('Xen paths as the libraries probe them', () => {
  it('stat: device nodes, sockets, directories and files with their types and numbers', () => {
    const probe = ['/dev/xen/privcmd', '/dev/xen/hypercall', '/dev/xen/xenbus', '/var/run/xenstored/socket', '/run/xenstored/socket',
      '/proc/xen', '/proc/xen/capabilities', '/sys/hypervisor/type'];
    const devs = XenDevices.simulated();
    const out = ok(ug('/usr/bin/stat', ['-c', '%n|%F|%t|%T', ...probe]));
    const expected = probe.map((p) => {
      const x = devs.lookup(p)!;
      const type = x.type === 'chr' ? 'character special file' : x.type === 'sock' ? 'socket' : x.type === 'dir' ? 'directory'
        : p.startsWith('/proc/') ? 'regular empty file' : 'regular file';
      const [maj, min] = x.type === 'chr' ? [x.rdev.major, x.rdev.minor] : [0, 0];
      return `${p}|${type}|${maj.toString(16)}|${min.toString(16)}`;
    });
    assert.deepEqual(out.split('\n').filter(Boolean), expected);
  });

  it('cat /proc/xen/capabilities and /sys/hypervisor/type: their simulated contents', () => {
    const devs = XenDevices.simulated();
    const text = (p: string): string => { const x = devs.lookup(p)!; return x.type === 'file' ? x.content() : ''; };
    assert.equal(ok(ug('/bin/cat', ['/proc/xen/capabilities', '/sys/hypervisor/type'])), text('/proc/xen/capabilities') + text('/sys/hypervisor/type'));
  });

  it('--xen-coverage prints the coverage table and exits 0', () => {
    const r = run(process.execPath, [UNIGRIND_CLI, '--xen-coverage']);
    assert.equal(r.status, 0, describeRun(r));
    assert.equal(r.stdout.toString('utf8'), formatCoverage());
  });
});

// --- in-process runs: one simulated host shared by several programs

let runNo = 0;
/** Runs prog with the given Xen devices in this process; the guest's stdout/stderr go to files. */
async function runHere(prog: string, args: string[], devices: XenDevices, observer?: SyscallObserver): Promise<{ code: number | undefined; stdout: string; stderr: string }> {
  const n = runNo++;
  const files = ['out', 'err', 'log'].map((k) => join(work, `${k}-${n}`));
  const fds = files.map((f) => openSync(f, 'w+'));
  const { proc } = launch(prog, args, env, { traceSyscalls: false, log: new Log(fds[2], process.pid), devices: (p) => new XenWiring(p, devices) });
  proc.fds.set(1, { host: fds[0], cloexec: false });
  proc.fds.set(2, { host: fds[1], cloexec: false });
  if (observer) proc.observer = observer;
  const st = await proc.run();
  for (const fd of fds) try { closeSync(fd); } catch { /* the guest closed it */ }
  return { code: st.code, stdout: readFileSync(files[0], 'utf8'), stderr: readFileSync(files[1], 'utf8') + readFileSync(files[2], 'utf8') };
}

describe('one simulated host across programs (in-process)', () => {
  it('xl pause, then xl list shows the guest paused, then xl unpause clears it', async () => {
    const devices = XenDevices.simulated();
    const sim = devices.hv as SimHypervisor;
    const guest = sim.sortedDomains().find((d) => d.id !== 0)!;
    assert.equal((await runHere(xen.xl, ['pause', guest.name!], devices)).code, 0);
    assert.equal(sim.domains.get(guest.id)!.paused, true);
    const listed = fields((await runHere(xen.xl, ['list'], devices)).stdout).find((f) => f[1] === String(guest.id))!;
    assert.equal(listed[4][2], 'p', `state ${listed[4]}`);
    const un = await runHere(xen.xl, ['unpause', guest.name!], devices);
    assert.equal(un.code, 0);
    assert.doesNotMatch(un.stderr, /Unpausing domain/);
    assert.equal(sim.domains.get(guest.id)!.paused, false);
  });

  it('xenstore-write, then the store and a later xenstore-read see the value', async () => {
    const devices = XenDevices.simulated();
    assert.equal((await runHere(xen.xenstoreTools['xenstore-write'], ['/local/domain/0/unigrind-test', 'value 1'], devices)).code, 0);
    assert.equal(devices.store!.read('/local/domain/0/unigrind-test'), 'value 1');
    assert.equal((await runHere(xen.xenstoreTools['xenstore-read'], ['/local/domain/0/unigrind-test'], devices)).stdout, 'value 1\n');
  });

  it('hypercall and ioctl parameter checks reach the process observer (what memcheck will see)', async () => {
    const reads: string[] = [];
    const writes: Array<[number, number]> = [];
    const observer: SyscallObserver = {
      preRead: (sys, what) => { if (sys === 'ioctl') reads.push(what); },
      postWrite: (addr, len) => { writes.push([addr, len]); },
    };
    const r = await runHere(xen.xl, ['list'], XenDevices.simulated(), observer);
    assert.equal(r.code, 0, r.stderr);
    // The prologue, the domain list loop, the FLASK label probe and libxendevicemodel's DM_OP probe (reference §6).
    for (const w of ['ioctl(privcmd hypercall xen_version cmd', 'ioctl(privcmd hypercall sysctl getdomaininfolist u.getdomaininfolist.max_domains',
      'ioctl(privcmd hypercall xsm_op sid_to_context', 'ioctl(privcmd dm_op num']) {
      assert.ok(reads.some((x) => x.startsWith(w)), `no check named ${w}…; saw ${[...new Set(reads)].slice(0, 20).join('; ')}`);
    }
    // Each domain's 112-byte record (4.17) is written by the hypervisor and marked defined.
    assert.ok(writes.some(([, len]) => len >= 112 * new SimHypervisor().domains.size), 'no postWrite covering the domain records');
  });
});

describe('foreign frames in guest memory', () => {
  it('libxenforeignmemory maps: aliasing between mappings, persistence in the hypervisor, distinct frames', (t) => {
    const inc = join(xen.root, 'usr/include');
    if (!existsSync(join(inc, 'xenforeignmemory.h'))) return t.skip('libxen-dev headers missing from the cache');
    const bin = join(work, 'foreign_map');
    execFileSync('gcc', ['-g', '-O0', '-o', bin, fixture('xen', 'foreign_map.c'), `-I${inc}`, `-L${xen.libDir}`, '-lxenforeignmemory'], { stdio: 'pipe' });
    const guest = loadConfig().domains.find((d) => d.id !== 0)!;
    const out = ok(ug(bin, [String(guest.id), '0x10']));
    assert.deepEqual(out.split('\n').filter(Boolean), ['fresh-zero yes', 'aliased yes', 'persisted yes', 'distinct yes']);
  });
});
