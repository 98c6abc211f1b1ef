/** Runs programs natively, under unigrind and under Valgrind, capturing what a comparison needs. */
import { spawnSync } from 'node:child_process';
import { UNIGRIND_CLI } from './paths';

/** What one run produced. */
export interface RunResult {
  stdout: Buffer;
  stderr: string;
  /** Exit code, or null when a signal ended the process. */
  status: number | null;
  signal: NodeJS.Signals | null;
  /** Wall time, milliseconds. */
  ms: number;
}

/** Options common to every way of running a program. */
export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Kill the run after this long (default 5 minutes), so a hang fails a test instead of stalling CI. */
  timeoutMs?: number;
}

/** Runs cmd with args to completion; never throws for a failing or crashing program. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): RunResult {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, {
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    timeout: opts.timeoutMs ?? 300_000,
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 256 << 20,
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error) throw new Error(`cannot run ${cmd}: ${r.error.message}`);
  return { stdout: r.stdout, stderr: r.stderr.toString('utf8'), status: r.status, signal: r.signal, ms };
}

/** Runs `unigrind toolArgs cmd args` (the compiled CLI under this same node). */
export function runUnigrind(toolArgs: readonly string[], cmd: string, args: readonly string[], opts: RunOptions = {}): RunResult {
  return run(process.execPath, [UNIGRIND_CLI, ...toolArgs, cmd, ...args], opts);
}

/** Runs `valgrind toolArgs cmd args`. */
export function runValgrind(toolArgs: readonly string[], cmd: string, args: readonly string[], opts: RunOptions = {}): RunResult {
  return run('valgrind', [...toolArgs, cmd, ...args], opts);
}

/** The lines of a Valgrind-style log with the `==PID== ` prefixes removed (other lines kept as they are). */
export function stripPidPrefixes(log: string): string[] {
  return log.split('\n').map((l) => l.replace(/^==\d+== ?/, ''));
}

/**
 * The lines from the first one containing `first` through the next one containing `last`, or
 * undefined when either is missing.
 */
export function linesBetween(lines: readonly string[], first: string, last: string): string[] | undefined {
  const i = lines.findIndex((l) => l.includes(first));
  if (i < 0) return undefined;
  const j = lines.findIndex((l, k) => k >= i && l.includes(last));
  return j < 0 ? undefined : lines.slice(i, j + 1);
}

/** A short printable description of a run, for assertion messages. */
export function describeRun(r: RunResult): string {
  const out = r.stdout.toString('utf8');
  const clip = (s: string): string => (s.length > 2000 ? `${s.slice(0, 2000)}… (${s.length} chars)` : s);
  return `status=${r.status} signal=${r.signal}\n--- stdout\n${clip(out)}\n--- stderr\n${clip(r.stderr)}`;
}
