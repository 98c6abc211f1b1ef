/**
 * Valgrind 3.19 as the oracle of unigrind's memcheck: build a fixture with gcc/g++, run it under
 * real Valgrind and under unigrind with the same options (concurrently, with a bound on the
 * number of processes), read both XML documents with unigrind's own reader, and boil each run
 * down to what must agree:
 *
 * - the multiset of errors, each keyed by kind, its primary line (addresses blanked) and the
 *   first frame that lies in the fixture's own sources (file:line);
 * - the leak totals per kind (direct bytes and blocks, summed over the loss records);
 * - the fatal signal, if any (name, code, first fixture frame);
 * - the program's stdout and exit status.
 *
 * Address descriptions (auxwhat lines with the first fixture frame of their stacks) are boiled
 * down separately, so a test can check them apart from the essentials; so are the origins of
 * undefined values (`--track-origins=yes`: "Uninitialised value was created by …" and the first
 * fixture frame of the origin stack).
 *
 * Deliberate differences between the two are normalised here, each for a stated reason:
 * heap and stack addresses (different address-space layouts); the name and addresses of the
 * preload object (`/usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so` versus
 * `unigrind:vgpreload_memcheck-amd64-linux.so`; unigrind's replacements are not a real ELF
 * file); the number of errors inside replacement functions (see `inReplacement`); Valgrind 3.19's
 * double count of 2-byte invalid stores (see `VALGRIND_319_STOREV16_TWICE`).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, extname, join, resolve as resolvePath } from 'node:path';
import type { AuxItem, ErrorFrame } from '../../engine/errors/error-record';
import { leakStateOf } from '../../engine/errors/error-record';
import { readValgrindXml, ValgrindXmlDocument } from '../../engine/report/xml-reader';
import { fixture, UNIGRIND_CLI } from './paths';

/** Where the memcheck fixtures live (and fixture.h, which every fixture folder may include). */
export const MEMCHECK_FIXTURES = fixture('memcheck');

/** Where the uninitialised-value fixtures live. */
export const MEMCHECK_UNINIT_FIXTURES = fixture('memcheck-uninit');

export type OptLevel = 'O0' | 'O2';
export const OPT_LEVELS: readonly OptLevel[] = ['O0', 'O2'];
export type Tool = 'valgrind' | 'unigrind';

// ------------------------------------------------------------------ a bound on child processes

/** Runs at most `n` async jobs at once; the rest wait in order. */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(readonly n: number) {}

  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.active >= this.n) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await job();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

/**
 * Every compiler, Valgrind and unigrind process of the oracle tests goes through this limiter:
 * one more than the cores (each run waits a little on I/O), or UNIGRIND_ORACLE_JOBS.
 */
export const processes = new Limiter(Number(process.env.UNIGRIND_ORACLE_JOBS) || availableParallelism() + 1);

/** What a finished child process gave. */
export interface ProcessResult {
  stdout: Buffer;
  stderr: string;
  status: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  timedOut: boolean;
}

/** Options of one child process. */
export interface SpawnOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Called once the process runs (e.g. to send it a signal later). */
  onSpawn?: (child: ChildProcess) => void;
  /** Called with each stdout chunk as it arrives. */
  onStdout?: (chunk: Buffer, child: ChildProcess) => void;
}

/** Spawns cmd (through the limiter) and collects its output; never rejects for a failing program. */
export function spawnCollect(cmd: string, args: readonly string[], o: SpawnOptions = {}): Promise<ProcessResult> {
  return processes.run(() => new Promise<ProcessResult>((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd: o.cwd, env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, o.timeoutMs ?? 300_000);
    child.stdout.on('data', (b: Buffer) => {
      out.push(b);
      o.onStdout?.(b, child);
    });
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${cmd}: ${e.message}`));
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({
        stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8'), status, signal,
        ms: Number(process.hrtime.bigint() - t0) / 1e6, timedOut,
      });
    });
    o.onSpawn?.(child);
  }));
}

// ------------------------------------------------------------------ building fixtures

/** A fixture program: its sources (the first holds main) and extra compiler flags. */
export interface FixtureProgram {
  name: string;
  /** File names, relative to `dir`. */
  sources: string[];
  flags?: string[];
  /** The folder of the sources; default MEMCHECK_FIXTURES. */
  dir?: string;
}

/** The program of a one-file fixture in test/fixtures/memcheck: name = file name without extension. */
export function program(file: string, ...more: string[]): FixtureProgram {
  return { name: basename(file, extname(file)), sources: [file, ...more] };
}

/** The same, for a fixture in another folder (fixture.h stays on the include path). */
export function programIn(dir: string, file: string, ...more: string[]): FixtureProgram {
  return { ...program(file, ...more), dir };
}

/** A private scratch folder for one test file. */
export function scratchDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `unigrind-${tag}-`));
}

/** Removes a scratch folder (unless UNIGRIND_KEEP_SCRATCH is set, to look at the files). */
export function removeScratch(dir: string): void {
  if (!process.env.UNIGRIND_KEEP_SCRATCH) rmSync(dir, { recursive: true, force: true });
}

/**
 * Compiles a fixture with gcc (C) or g++ (any C++ source) at -O0 or -O2 with -g into outDir;
 * resolves to the binary's path, rejects with the compiler's messages.
 */
export async function build(p: FixtureProgram, opt: OptLevel, outDir: string): Promise<string> {
  const cxx = p.sources.some((s) => /\.(cc|cpp|cxx)$/.test(s));
  const out = join(outDir, `${p.name}-${opt}`);
  const args = ['-g', `-${opt}`, '-I', MEMCHECK_FIXTURES, '-o', out,
    ...p.sources.map((s) => resolvePath(p.dir ?? MEMCHECK_FIXTURES, s)), ...(p.flags ?? [])];
  const r = await spawnCollect(cxx ? 'g++' : 'gcc', args, { timeoutMs: 120_000 });
  if (r.status !== 0) throw new Error(`${cxx ? 'g++' : 'gcc'} ${args.join(' ')} failed:\n${r.stderr}`);
  return out;
}

// ------------------------------------------------------------------ running both tools

/** One run of a program under a tool. */
/** build() once per fixture and level into outDir, started on first use and shared by the tests that need it. */
export function buildOnce(outDir: string): (p: FixtureProgram, opt: OptLevel) => Promise<string> {
  const builds = new Map<string, Promise<string>>();
  return (p, opt) => {
    const key = `${p.name}-${opt}`;
    let b = builds.get(key);
    if (!b) {
      b = build(p, opt, outDir);
      builds.set(key, b);
    }
    return b;
  };
}

export interface RunSpec {
  program: string;
  args?: string[];
  /** Tool options besides the log and XML files. Default: --leak-check=full --show-leak-kinds=all. */
  options?: string[];
  /** With --xml=yes --xml-file=… (default true). */
  xml?: boolean;
  /** Where the log and XML files go. */
  dir: string;
  /** A name for the files (default: the program's name). */
  tag?: string;
  timeoutMs?: number;
  /** When stdout first contains this text, send the tool process this signal. */
  signalOnStdout?: { text: string; signal: NodeJS.Signals };
}

/** The default options of the oracle runs. */
export const ORACLE_OPTIONS: readonly string[] = ['--leak-check=full', '--show-leak-kinds=all'];

/** What a tool run produced. */
export interface ToolRun {
  tool: Tool;
  stdout: string;
  stderr: string;
  status: number | null;
  signal: NodeJS.Signals | null;
  /** The text log (--log-file). */
  log: string;
  /** The XML document as written, and as read. */
  xmlText?: string;
  xml?: ValgrindXmlDocument;
  ms: number;
}

/** Runs spec.program under one tool. */
export async function runTool(tool: Tool, spec: RunSpec): Promise<ToolRun> {
  const tag = `${spec.tag ?? basename(spec.program)}.${tool}`;
  const logFile = join(spec.dir, `${tag}.log`);
  const xmlFile = join(spec.dir, `${tag}.xml`);
  const xml = spec.xml ?? true;
  const opts = [...(spec.options ?? ORACLE_OPTIONS), `--log-file=${logFile}`, ...(xml ? ['--xml=yes', `--xml-file=${xmlFile}`] : [])];
  const [cmd, pre] = tool === 'valgrind' ? ['valgrind', [] as string[]] : [process.execPath, [UNIGRIND_CLI]];
  let seen = '';
  let signalled = false;
  const r = await spawnCollect(cmd, [...pre, ...opts, spec.program, ...(spec.args ?? [])], {
    cwd: spec.dir,
    // An internal error of unigrind then comes with its JavaScript stack (on stderr, not compared).
    env: tool === 'unigrind' ? { ...process.env, UNIGRIND_DEBUG: '1' } : process.env,
    timeoutMs: spec.timeoutMs,
    onStdout: spec.signalOnStdout && ((chunk, child) => {
      seen += chunk.toString('latin1');
      if (!signalled && seen.includes(spec.signalOnStdout!.text)) {
        signalled = true;
        // A moment for the guest to block in its syscall, as a user's kill would find it.
        setTimeout(() => child.kill(spec.signalOnStdout!.signal), 300);
      }
    }),
  });
  if (r.timedOut) throw new Error(`${tool} ${spec.program} timed out`);
  const read = (f: string): string | undefined => {
    try {
      return readFileSync(f, 'latin1');
    } catch {
      return undefined;
    }
  };
  const run: ToolRun = {
    tool, stdout: r.stdout.toString('latin1'), stderr: r.stderr, status: r.status, signal: r.signal,
    log: read(logFile) ?? '', ms: r.ms,
  };
  if (xml) {
    run.xmlText = read(xmlFile);
    if (run.xmlText !== undefined) run.xml = readValgrindXml(run.xmlText);
  }
  return run;
}

/** Runs the same spec under Valgrind and unigrind at the same time. */
export async function runBoth(spec: RunSpec): Promise<{ valgrind: ToolRun; unigrind: ToolRun }> {
  const [valgrind, unigrind] = await Promise.all([runTool('valgrind', spec), runTool('unigrind', spec)]);
  return { valgrind, unigrind };
}

// ------------------------------------------------------------------ boiling a run down

/** Hex numbers (addresses) blanked: the two tools lay out the address space differently. */
export function blankAddresses(s: string): string {
  return s.replace(/0x[0-9a-fA-F]+/g, '0x…');
}

/** The preload object under either name. */
const PRELOAD = /vgpreload_memcheck-amd64-linux\.so$/;

/** The first frame in one of the fixture's sources, as "file:line", or undefined. */
export function firstFixtureFrame(stack: readonly ErrorFrame[] | undefined, sources: ReadonlySet<string>): string | undefined {
  const f = stack?.find((fr) => fr.file !== undefined && sources.has(basename(fr.file)));
  return f ? `${basename(f.file!)}:${f.line ?? '?'}` : undefined;
}

/** One error of a run, boiled down. */
export interface ErrorEntry {
  kind: string;
  /** The primary line, addresses blanked, loss-record numbers removed. */
  what: string;
  /** First frame in the fixture's sources, or "(no fixture frame)". */
  at: string;
  /** Innermost function name. */
  fn: string;
  /** How often it happened (`<errorcounts>`; 1 for leaks). */
  count: number;
  /**
   * The innermost frame is one of the tool's replacement functions (strlen, memcmp, …). Valgrind
   * runs its replacements as compiled C in the guest, byte by byte: each bad byte is an error and
   * each load instruction a separate context (its memcmp gives 1+3+4 errors in three contexts for
   * four bad bytes per operand); unigrind runs them in the engine, one frame, one error per bad
   * operand. Only their kind, text and first fixture frame are comparable, not their counts.
   */
  inReplacement: boolean;
  /** Address descriptions: each auxwhat line, with " @ file:line" of its stack's first fixture frame. */
  aux: string[];
  /** The origin line among them (`--track-origins=yes`), boiled down the same way. */
  origin?: string;
  leak?: { bytes: number; blocks: number };
}

/**
 * Valgrind 3.19 counts every invalid 2-byte store twice (measured: one execution of
 * `movw $2,(%rax)` past a block gives "2 errors in context", while 1-, 4- and 8-byte stores
 * count once; apparently its 16-bit store helper runs its slow, reporting path twice for a
 * defined value). unigrind counts it once, which is right; the oracle halves Valgrind's count.
 */
export const VALGRIND_319_STOREV16_TWICE = true;

/** The errors of a document (leaks included), in document order. */
export function errorEntries(run: ToolRun, sources: ReadonlySet<string>): ErrorEntry[] {
  const doc = run.xml;
  if (!doc) return [];
  const counts = new Map(doc.errorCounts.map((c) => [c.unique, c.count]));
  return doc.errors.map(({ unique, record }) => {
    const top = record.stack[0];
    const inReplacement = !record.kind.startsWith('Leak_') && top?.obj !== undefined && PRELOAD.test(top.obj);
    let count = counts.get(unique) ?? 1;
    if (run.tool === 'valgrind' && VALGRIND_319_STOREV16_TWICE && record.kind === 'InvalidWrite' && record.what === 'Invalid write of size 2') {
      count = Math.ceil(count / 2);
    }
    const auxText = (a: AuxItem): string => {
      const at = firstFixtureFrame(a.stack, sources);
      return blankAddresses(a.text) + (a.stack ? ` @ ${at ?? '(no fixture frame)'}` : '');
    };
    const e: ErrorEntry = {
      kind: record.kind,
      what: blankAddresses(record.what).replace(/ in loss record \d+ of \d+$/, ''),
      at: firstFixtureFrame(record.stack, sources) ?? '(no fixture frame)',
      fn: top?.fn ?? '???',
      count,
      inReplacement,
      aux: record.aux.map(auxText),
    };
    const origin = record.aux.find((a) => a.role === 'origin');
    if (origin) e.origin = auxText(origin);
    if (record.leak) e.leak = { bytes: record.leak.bytes, blocks: record.leak.blocks };
    return e;
  });
}

/** The comparable essentials of a run. */
export interface RunEssentials {
  /** Sorted "Kind | what | at file:line ×count" (replacement errors: one line each, no count). */
  errors: string[];
  /** Direct bytes and blocks per leak kind, summed over the loss records. */
  leaks: Record<string, { bytes: number; blocks: number }>;
  fatalSignal?: string;
  stdout: string;
  exit: string;
}

/** The essentials of a run, for deepStrictEqual against the other tool's. */
export function essentials(run: ToolRun, sources: ReadonlySet<string>): RunEssentials {
  const entries = errorEntries(run, sources);
  const lines = new Map<string, number>();
  for (const e of entries) {
    const key = `${e.kind} | ${e.what} | at ${e.at}${e.inReplacement ? ' (in a replacement function)' : ''}`;
    lines.set(key, e.inReplacement ? 0 : (lines.get(key) ?? 0) + e.count);
  }
  const errors = [...lines].map(([k, n]) => (n > 0 ? `${k} ×${n}` : k)).sort();
  const leaks: Record<string, { bytes: number; blocks: number }> = {};
  for (const e of entries) {
    if (!e.leak || !leakStateOf(e.kind as never)) continue;
    const t = (leaks[e.kind] ??= { bytes: 0, blocks: 0 });
    t.bytes += e.leak.bytes;
    t.blocks += e.leak.blocks;
  }
  const out: RunEssentials = { errors, leaks, stdout: run.stdout, exit: exitOf(run) };
  const sig = run.xml?.fatalSignals[0];
  if (sig) {
    out.fatalSignal = `${sig.signame} code ${sig.sicode}${sig.event ? ` (${sig.event})` : ''} at ${firstFixtureFrame(sig.stack, sources) ?? '(no fixture frame)'}`;
  }
  return out;
}

/** Exit status or terminating signal, as one string. */
export function exitOf(run: ToolRun): string {
  return run.signal ? `killed by ${run.signal}` : `exit ${run.status}`;
}

/** Address descriptions per error, sorted, for comparison apart from the essentials. */
export function descriptions(run: ToolRun, sources: ReadonlySet<string>): string[] {
  const seen = new Set<string>();
  for (const e of errorEntries(run, sources)) {
    if (e.aux.length === 0 || e.kind.startsWith('Leak_')) continue;
    seen.add(`${e.kind} at ${e.at}: ${e.aux.join(' / ')}`);
  }
  return [...seen].sort();
}

/**
 * The origins of undefined values per error, sorted: "Kind at file:line: Uninitialised value was
 * created by a heap allocation @ file:line" (the origin stack's first fixture frame), or
 * "Kind at file:line: (no origin)" for an error about undefined values that names none.
 */
export function origins(run: ToolRun, sources: ReadonlySet<string>): string[] {
  const seen = new Set<string>();
  for (const e of errorEntries(run, sources)) {
    if (e.kind.startsWith('Leak_')) continue;
    if (e.origin !== undefined) seen.add(`${e.kind} at ${e.at}: ${e.origin}`);
    else if (/^Uninit|^SyscallParam$|^ClientCheck$/.test(e.kind) && /uninitialised|Uninitialised/.test(e.what)) {
      seen.add(`${e.kind} at ${e.at}: (no origin)`);
    }
  }
  return [...seen].sort();
}

/** Errors of a kind whose primary line matches, from the essentials. */
export function errorLines(ess: RunEssentials, re: RegExp): string[] {
  return ess.errors.filter((l) => re.test(l));
}

// ------------------------------------------------------------------ text logs

/**
 * A text log with what must differ blanked: the `==PID==` / `--PID--` / `**PID**` prefixes,
 * hex numbers, and the preload object's frames (Valgrind prints its own debug info for them,
 * `malloc (vg_replace_malloc.c:381)`; unigrind prints `malloc (in unigrind:vgpreload_…)`).
 */
export function normalizeLog(log: string): string[] {
  return log.split('\n')
    .map((l) => l.replace(/^(==|--|\*\*)\d+\1 ?/, ''))
    .map((l) => blankAddresses(l)
      .replace(/\((?:vg_replace_\w+\.c:\d+|in \S*vgpreload_memcheck-amd64-linux\.so)\)/, '(in the preload object)'));
}

/** The normalised log lines from the first one containing `from` to the end. */
export function logFrom(log: string, from: string): string[] | undefined {
  const lines = normalizeLog(log);
  const i = lines.findIndex((l) => l.includes(from));
  if (i < 0) return undefined;
  const rest = lines.slice(i);
  while (rest.length > 0 && rest[rest.length - 1] === '') rest.pop();
  return rest;
}

/** A short account of a run for assertion messages. */
export function describeToolRun(r: ToolRun): string {
  const clip = (s: string, n = 3000): string => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);
  return `--- ${r.tool}: ${exitOf(r)}, ${Math.round(r.ms)} ms\n--- stdout\n${clip(r.stdout)}\n--- stderr\n${clip(r.stderr)}\n--- log\n${clip(r.log)}`;
}
