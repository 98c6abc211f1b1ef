/**
 * `npm run bench`: each bench program under unigrind and under Valgrind with the same tool, in the
 * same run on the same machine, interleaved (unigrind, valgrind, unigrind, …) so that load from
 * elsewhere hits both sides alike. Reports the median wall time of REPS runs, the ratio
 * unigrind/valgrind with its geometric mean, and the peak RSS of each side; prints the table and
 * writes it as JSON to test/cache/bench/.
 *
 *   node dist/test/bench/run.js [--reps=N] [name-filter ...]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile } from '../support/compile';
import { cacheDir, fixture, REPO_ROOT, UNIGRIND_CLI } from '../support/paths';

/** A tool configuration: the same options on both sides. */
interface ToolConfig {
  tool: string;
  args: readonly string[];
}

/** The tools benchmarked: every program gets a row for each. */
const TOOLS: readonly ToolConfig[] = [
  { tool: 'none', args: ['--tool=none', '-q'] },
  { tool: 'memcheck', args: ['--tool=memcheck', '-q'] },
];

/** A program to measure: a bench fixture compiled at -O2, or a system command. */
interface BenchProgram {
  name: string;
  /** Source under test/fixtures/bench, compiled with gcc -O2 -g. */
  src?: string;
  /** The command, when it is not a compiled fixture. */
  cmd?: string;
  args: readonly string[];
  /** What the program stresses, for the reader of the table. */
  what: string;
}

// Sizes chosen so that each unigrind run takes a few seconds today: long enough that start-up
// (about 0.2 s for node, koffi and Unicorn) does not dominate, short enough for 3 repetitions.
const PROGRAMS: readonly BenchProgram[] = [
  { name: 'bench_loop', src: 'bench_loop.c', args: ['10000000'], what: 'CPU: sieve and hash loops' },
  { name: 'bench_malloc', src: 'bench_malloc.c', args: ['150'], what: 'malloc/free/realloc churn' },
  { name: 'bench_strings', src: 'bench_strings.c', args: ['40000'], what: 'snprintf, qsort+strcmp, printf' },
  {
    name: 'python3 dict+sort', cmd: '/usr/bin/python3',
    args: ['-c', 'd = {str(i): i * i for i in range(20000)}; words = sorted(d, key=lambda k: (len(k), k[::-1])); print(len(words), words[:3], sum(d.values()) % 1000003)'],
    what: 'an interpreter: many small objects',
  },
  { name: 'ls -la /usr/lib', cmd: '/bin/ls', args: ['-la', '/usr/lib'], what: 'start-up, ld.so, syscalls' },
];

const TIME = '/usr/bin/time';

/** One measured run. */
interface Sample {
  seconds: number;
  /** Peak resident set size in KiB (from /usr/bin/time -f %M), or null when unavailable. */
  maxRssKiB: number | null;
  stdout: Buffer;
  ok: boolean;
  /** unigrind --stats=yes: the share of executed guest instructions the translator ran, in percent. */
  translatedPercent?: number;
}

/** One table row: a program under one tool on both sides. */
export interface BenchRow {
  tool: string;
  program: string;
  what: string;
  unigrindSeconds: number;
  valgrindSeconds: number;
  /** unigrind / valgrind, wall time. */
  ratio: number;
  unigrindMaxRssKiB: number | null;
  valgrindMaxRssKiB: number | null;
  /** Both sides printed what the native run printed and exited as it did. */
  outputMatchesNative: boolean;
  unigrindRuns: number[];
  valgrindRuns: number[];
  /** Share of executed guest instructions run by the translator (unigrind --stats=yes); absent on Unicorn alone. */
  translatedPercent?: number;
}

/**
 * Runs argv once; wall time is measured around the whole child, peak RSS read from GNU time's
 * report (wait4's ru_maxrss of the child, which for valgrind and for node is the one process doing
 * the work).
 */
function measure(argv: readonly string[], native?: { stdout: Buffer; status: number | null }): Sample {
  const rssFile = join(tmpdir(), `unigrind-bench-${process.pid}.rss`);
  const useTime = existsSync(TIME);
  const cmd = useTime ? [TIME, '-f', '%M', '-o', rssFile, ...argv] : [...argv];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 << 20, timeout: 600_000 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.error) throw new Error(`cannot run ${argv.join(' ')}: ${r.error.message}`);
  let maxRssKiB: number | null = null;
  if (useTime && existsSync(rssFile)) {
    // GNU time writes "Command exited with non-zero status N" before the figure when the status is not 0.
    const last = readFileSync(rssFile, 'utf8').trim().split('\n').pop() ?? '';
    maxRssKiB = /^\d+$/.test(last) ? Number(last) : null;
    rmSync(rssFile, { force: true });
  }
  const ok = native === undefined || (r.stdout.equals(native.stdout) && r.status === native.status);
  if (!ok) process.stderr.write(`bench: ${argv.join(' ')}: output or status differs from the native run\n${r.stderr.toString().slice(0, 2000)}\n`);
  const stats = /translated \(([\d.]+)%\)/.exec(r.stderr.toString());
  return { seconds, maxRssKiB, stdout: r.stdout, ok, ...(stats ? { translatedPercent: Number(stats[1]) } : {}) };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function maxOrNull(xs: ReadonlyArray<number | null>): number | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? Math.max(...v) : null;
}

function geomean(xs: readonly number[]): number {
  return Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);
}

/** The program's command line, compiling the fixture into the bench cache first when it is one. */
function commandOf(p: BenchProgram, binDir: string): string[] {
  if (p.src) return [compile(fixture('bench', p.src), binDir, { opt: 'O2', link: 'dynamic' }), ...p.args];
  return [p.cmd!, ...p.args];
}

/** Measures every program under every tool; REPS runs per side, interleaved. */
export function runBench(reps: number, filters: readonly string[]): BenchRow[] {
  const binDir = cacheDir('bench', 'bin');
  const rows: BenchRow[] = [];
  const programs = PROGRAMS.filter((p) => filters.length === 0 || filters.some((f) => p.name.includes(f)));
  for (const p of programs) {
    const argv = commandOf(p, binDir);
    const nat = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 256 << 20 });
    const native = { stdout: nat.stdout, status: nat.status };
    for (const t of TOOLS) {
      const ug: Sample[] = [];
      const vg: Sample[] = [];
      for (let i = 0; i < reps; i++) {
        ug.push(measure([process.execPath, UNIGRIND_CLI, ...t.args, '--stats=yes', ...argv], native));
        vg.push(measure(['valgrind', ...t.args, ...argv], native));
      }
      const row: BenchRow = {
        tool: t.tool, program: p.name, what: p.what,
        unigrindSeconds: median(ug.map((s) => s.seconds)),
        valgrindSeconds: median(vg.map((s) => s.seconds)),
        ratio: 0,
        unigrindMaxRssKiB: maxOrNull(ug.map((s) => s.maxRssKiB)),
        valgrindMaxRssKiB: maxOrNull(vg.map((s) => s.maxRssKiB)),
        outputMatchesNative: [...ug, ...vg].every((s) => s.ok),
        unigrindRuns: ug.map((s) => s.seconds), valgrindRuns: vg.map((s) => s.seconds),
        ...(ug[0]?.translatedPercent !== undefined ? { translatedPercent: ug[0].translatedPercent } : {}),
      };
      row.ratio = row.unigrindSeconds / row.valgrindSeconds;
      rows.push(row);
      process.stderr.write(`bench: ${t.tool} ${p.name}: ${row.unigrindSeconds.toFixed(2)} s vs ${row.valgrindSeconds.toFixed(2)} s\n`);
    }
  }
  return rows;
}

/** The table as printed: one row per program and tool, then the geometric mean ratio per tool. */
export function formatTable(rows: readonly BenchRow[], reps: number): string {
  const mb = (k: number | null): string => (k === null ? 'n/a' : (k / 1024).toFixed(0));
  const head = ['tool', 'program', 'unigrind s', 'valgrind s', 'ratio', 'unigrind MiB', 'valgrind MiB', 'output', 'translated'];
  const body = rows.map((r) => [
    r.tool, r.program, r.unigrindSeconds.toFixed(2), r.valgrindSeconds.toFixed(2), `${r.ratio.toFixed(1)}x`,
    mb(r.unigrindMaxRssKiB), mb(r.valgrindMaxRssKiB), r.outputMatchesNative ? 'same' : 'DIFFERS',
    r.translatedPercent === undefined ? 'Unicorn' : `${r.translatedPercent.toFixed(4)}%`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
  for (const tool of new Set(rows.map((r) => r.tool))) {
    const ratios = rows.filter((r) => r.tool === tool).map((r) => r.ratio);
    out.push(`geomean ratio (${tool}, ${ratios.length} programs): ${geomean(ratios).toFixed(1)}x`);
  }
  out.push(`wall time: median of ${reps} runs per side; peak RSS: max of the runs (/usr/bin/time %M)`);
  out.push('translated: share of executed guest instructions run by the translator (--stats=yes); Unicorn: all on Unicorn');
  return out.join('\n') + '\n';
}

function versionOf(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n')[0];
  } catch {
    return 'unknown';
  }
}

function main(argv: string[]): void {
  if (!existsSync(UNIGRIND_CLI)) throw new Error(`${UNIGRIND_CLI} is missing: run npm run build`);
  const repsArg = argv.find((a) => a.startsWith('--reps='));
  const reps = repsArg ? Number(repsArg.slice('--reps='.length)) : 3;
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`bad --reps: ${repsArg}`);
  const filters = argv.filter((a) => !a.startsWith('--'));
  const rows = runBench(reps, filters);
  const table = formatTable(rows, reps);
  process.stdout.write(table);
  const report = {
    date: new Date().toISOString(),
    commit: versionOf('git', ['-C', REPO_ROOT, 'rev-parse', 'HEAD']),
    node: process.version,
    valgrind: versionOf('valgrind', ['--version']),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    reps,
    rows,
    table,
  };
  const dir = cacheDir('bench');
  const file = join(dir, `bench-${report.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(report, null, 1) + '\n');
  writeFileSync(join(dir, 'latest.json'), JSON.stringify(report, null, 1) + '\n');
  process.stdout.write(`written to ${file} (and latest.json beside it)\n`);
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
