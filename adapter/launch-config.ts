/**
 * The `unigrind` launch configuration (extension/package.json's configurationAttributes) and its
 * translation into a CLI command line, so that the adapter and `unigrind` share one validation:
 * every attribute becomes Valgrind-style options checked by the CLI's own parseArgs, and a bad
 * value is reported naming the attribute it came from.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ERROR_KINDS, ErrorKind } from '../engine/errors/error-record';
import { OptionError, Options, parseArgs } from '../engine/cli/options';

/** Launch attributes, as a launch.json entry gives them. */
export interface LaunchArguments {
  program: string;
  args?: string[];
  cwd?: string;
  /** Variables added (string) or removed (null) from the adapter's environment. */
  env?: Record<string, string | null>;
  stopOnEntry?: boolean;
  /** true: every kind (subject to the exception filters), false: none, or a list of kinds. */
  stopOnError?: boolean | string[];
  /** Default "full" (the CLI's default is Valgrind's "summary"). */
  leakCheck?: 'no' | 'summary' | 'full';
  trackOrigins?: boolean;
  suppressions?: string[];
  /** "sim" (optionally with a host description), "host", or { config: file } / an inline host. */
  xen?: 'sim' | 'host' | Record<string, unknown>;
  /** Further CLI options, e.g. ["--num-callers=30", "--xml=yes", "--xml-file=out.xml"]. */
  valgrindArgs?: string[];
  /** Run without stopping (VS Code's "Run Without Debugging"). */
  noDebug?: boolean;
}

/** A launch attribute with a bad value: the error response names it. */
export class LaunchError extends Error {
  constructor(readonly attribute: string, message: string) {
    super(`launch attribute '${attribute}': ${message}`);
  }
}

/** What a launch configuration turns into. */
export interface CommandLine {
  /** Absolute path of the program. */
  program: string;
  args: string[];
  cwd: string;
  env: Record<string, string | undefined>;
  /** The options as the CLI would receive them (for XML's <args> and validation). */
  toolArgs: string[];
  opts: Options;
  /** Kinds selected by stopOnError: 'all', 'none' or an explicit set. */
  stopOnError: 'all' | 'none' | Set<ErrorKind>;
  stopOnEntry: boolean;
  noDebug: boolean;
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** Validates a launch configuration and builds its command line. */
export function toCommandLine(cfg: LaunchArguments): CommandLine {
  const c = cfg as unknown as Record<string, unknown>;
  if (typeof c.program !== 'string' || c.program === '') throw new LaunchError('program', 'a path to an executable is required');
  if (c.args !== undefined && !isStringArray(c.args)) throw new LaunchError('args', 'must be an array of strings');
  if (c.cwd !== undefined && typeof c.cwd !== 'string') throw new LaunchError('cwd', 'must be a string');
  const cwd = path.resolve((c.cwd as string | undefined) ?? process.cwd());
  if (!isDirectory(cwd)) throw new LaunchError('cwd', `${cwd} is not a directory`);
  const env = environment(c.env);
  for (const b of ['stopOnEntry', 'trackOrigins', 'noDebug'] as const) {
    if (c[b] !== undefined && typeof c[b] !== 'boolean') throw new LaunchError(b, 'must be true or false');
  }
  const stopOnError = errorSelection(c.stopOnError);

  // Each attribute becomes options; each is checked alone first so that an error names its attribute.
  const parts: Array<[string, string[]]> = [];
  if (c.leakCheck !== undefined && typeof c.leakCheck !== 'string') throw new LaunchError('leakCheck', 'must be "no", "summary" or "full"');
  // A debug session lists its loss records (and can stop on them): "full" unless told otherwise,
  // as the extension's launch configurations say, where the CLI's default is Valgrind's "summary".
  const leakGiven = isStringArray(c.valgrindArgs) && c.valgrindArgs.some((a) => a.startsWith('--leak-check='));
  if (c.leakCheck !== undefined || !leakGiven) parts.push(['leakCheck', [`--leak-check=${(c.leakCheck as string | undefined) ?? 'full'}`]]);
  if (c.trackOrigins !== undefined) parts.push(['trackOrigins', [`--track-origins=${c.trackOrigins ? 'yes' : 'no'}`]]);
  if (c.suppressions !== undefined) {
    if (!isStringArray(c.suppressions)) throw new LaunchError('suppressions', 'must be an array of file names');
    parts.push(['suppressions', c.suppressions.map((f) => `--suppressions=${path.resolve(cwd, f)}`)]);
  }
  const xen = xenOptions(c.xen, cwd);
  if (xen.length) parts.push(['xen', xen]);
  if (c.valgrindArgs !== undefined) {
    if (!isStringArray(c.valgrindArgs)) throw new LaunchError('valgrindArgs', 'must be an array of option strings');
    const notOption = c.valgrindArgs.find((a) => !a.startsWith('-'));
    if (notOption !== undefined) throw new LaunchError('valgrindArgs', `"${notOption}" is not an option (the program goes in 'program' and 'args')`);
    parts.push(['valgrindArgs', c.valgrindArgs]);
  }
  for (const [attr, words] of parts) {
    try {
      parseArgs([...words, 'x']);
    } catch (e) {
      if (e instanceof OptionError) throw new LaunchError(attr, e.message);
      throw e;
    }
  }
  const toolArgs = parts.flatMap(([, w]) => w);
  const program = path.resolve(cwd, c.program);
  const args = (c.args as string[] | undefined) ?? [];
  const parsed = parseArgs([...toolArgs, program, ...args]);
  return {
    program, args, cwd, env, toolArgs, opts: parsed.opts, stopOnError,
    stopOnEntry: c.stopOnEntry === true, noDebug: c.noDebug === true,
  };
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function environment(v: unknown): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  if (v === undefined) return env;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new LaunchError('env', 'must be an object of variable names to strings (or null to remove one)');
  for (const [k, val] of Object.entries(v)) {
    if (val === null) delete env[k];
    else if (typeof val === 'string') env[k] = val;
    else throw new LaunchError('env', `the value of ${k} must be a string or null`);
  }
  return env;
}

function errorSelection(v: unknown): CommandLine['stopOnError'] {
  if (v === undefined || v === true) return 'all';
  if (v === false) return 'none';
  if (!isStringArray(v)) throw new LaunchError('stopOnError', 'must be true, false or a list of error kinds');
  const bad = v.find((k) => !(ERROR_KINDS as readonly string[]).includes(k));
  if (bad !== undefined) throw new LaunchError('stopOnError', `unknown error kind "${bad}" (known: ${ERROR_KINDS.join(', ')})`);
  return new Set(v as ErrorKind[]);
}

/** xen: "sim" | "host" | { config: file } | an inline host description (written to a temporary file). */
function xenOptions(v: unknown, cwd: string): string[] {
  if (v === undefined) return [];
  if (v === 'sim' || v === 'host') return [`--xen=${v}`];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new LaunchError('xen', 'must be "sim", "host" or an object');
  const o = v as Record<string, unknown>;
  if (o.config !== undefined) {
    if (typeof o.config !== 'string') throw new LaunchError('xen', '"config" must name a JSON file');
    return ['--xen=sim', `--xen-config=${path.resolve(cwd, o.config)}`];
  }
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'unigrind-xen-')), 'host.json');
  fs.writeFileSync(file, JSON.stringify(o));
  return ['--xen=sim', `--xen-config=${file}`];
}
