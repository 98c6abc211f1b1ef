/** Valgrind's command-line options (core and memcheck) plus unigrind's own, parsed from a table. */

export type OptionKind = 'bool' | 'int' | 'string' | 'list' | { enum: readonly string[] };

interface OptionSpec { kind: OptionKind; default: unknown; help: string }

/** Every accepted option: name (without --) → kind, default, help. */
export const OPTION_TABLE: Record<string, OptionSpec> = {
  tool: { kind: { enum: ['memcheck', 'none'] }, default: 'memcheck', help: 'use the named tool' },
  'trace-syscalls': { kind: 'bool', default: false, help: 'show all system calls' },
  'trace-children': { kind: 'bool', default: false, help: 'trace into child processes (exec\'d programs run natively otherwise)' },
  'log-file': { kind: 'string', default: '', help: 'log messages to <file> (%p is the pid, %q{VAR} an environment variable)' },
  'log-fd': { kind: 'int', default: 2, help: 'log messages to file descriptor <n>' },
  xml: { kind: 'bool', default: false, help: 'emit error output in XML (protocol 4)' },
  'xml-file': { kind: 'string', default: '', help: 'XML output to <file>' },
  'xml-fd': { kind: 'int', default: -1, help: 'XML output to file descriptor <n>' },
  'xml-user-comment': { kind: 'string', default: '', help: 'copy <str> into the XML output' },
  quiet: { kind: 'bool', default: false, help: 'run silently; only print error messages' },
  verbose: { kind: 'bool', default: false, help: 'be more verbose' },
  'num-callers': { kind: 'int', default: 12, help: 'show <number> callers in stack traces' },
  'error-limit': { kind: 'bool', default: true, help: 'stop showing new errors if too many' },
  'error-exitcode': { kind: 'int', default: 0, help: 'exit code to return if errors found' },
  'exit-on-first-error': { kind: 'bool', default: false, help: 'exit code on the first error found' },
  'show-error-list': { kind: 'bool', default: false, help: 'show detected errors list and suppression counts at exit' },
  suppressions: { kind: 'list', default: [], help: 'suppress errors described in <filename>' },
  'gen-suppressions': { kind: { enum: ['no', 'yes', 'all'] }, default: 'no', help: 'print suppressions for errors' },
  'default-suppressions': { kind: 'bool', default: true, help: 'load the default suppressions' },
  'demangle': { kind: 'bool', default: true, help: 'automatically demangle C++ names' },
  'vgdb-error': { kind: 'int', default: 999999999, help: 'stop at the n-th error (the debug adapter uses this)' },
  'vgdb': { kind: { enum: ['no', 'yes', 'full'] }, default: 'yes', help: 'accepted for compatibility' },
  'main-stacksize': { kind: 'int', default: 8388608, help: 'main thread stack size' },
  'time-stamp': { kind: 'bool', default: false, help: 'add timestamps to log messages' },
  'child-silent-after-fork': { kind: 'bool', default: false, help: 'omit child output between fork & exec' },
  'track-fds': { kind: { enum: ['no', 'yes', 'all'] }, default: 'no', help: 'track open file descriptors' },
  'extra-debuginfo-path': { kind: 'string', default: '', help: 'absolute path to search for additional debug symbols, in addition to existing default well known search paths (searched like /usr/lib/debug: by build-id and by debuglink)' },
  'read-var-info': { kind: 'bool', default: false, help: 'read debug info on stack and global variables' },
  'read-inline-info': { kind: 'bool', default: true, help: 'read inlined function calls (default: yes for memcheck, no for none)' },
  'smc-check': { kind: { enum: ['none', 'stack', 'all', 'all-non-file'] }, default: 'all-non-file', help: 'self-modifying code checks' },
  'fair-sched': { kind: { enum: ['no', 'yes', 'try'] }, default: 'no', help: 'thread scheduling' },
  stats: { kind: 'bool', default: false, help: 'show engine statistics at exit' },
  // memcheck
  'leak-check': { kind: { enum: ['no', 'summary', 'full', 'yes'] }, default: 'summary', help: 'search for memory leaks at exit' },
  'leak-resolution': { kind: { enum: ['low', 'med', 'high'] }, default: 'high', help: 'differentiation of leak stack traces' },
  'show-leak-kinds': { kind: 'string', default: 'definite,possible', help: 'which leak kinds to show' },
  'errors-for-leak-kinds': { kind: 'string', default: 'definite,possible', help: 'which leak kinds are errors' },
  'leak-check-heuristics': { kind: 'string', default: 'all', help: 'which heuristics to use' },
  'show-reachable': { kind: 'bool', default: false, help: 'same as --show-leak-kinds=all' },
  'show-possibly-lost': { kind: 'bool', default: true, help: 'show possibly lost blocks' },
  'undef-value-errors': { kind: 'bool', default: true, help: 'check for undefined value errors' },
  'track-origins': { kind: 'bool', default: false, help: 'show origins of undefined values' },
  'partial-loads-ok': { kind: 'bool', default: true, help: 'too hard to explain here' },
  'expensive-definedness-checks': { kind: { enum: ['no', 'auto', 'yes'] }, default: 'auto', help: 'use exact and expensive definedness checks' },
  'freelist-vol': { kind: 'int', default: 20000000, help: 'volume of freed blocks queue' },
  'freelist-big-blocks': { kind: 'int', default: 1000000, help: 'releases first blocks with size >= <number>' },
  'workaround-gcc296-bugs': { kind: 'bool', default: false, help: 'accepted for compatibility' },
  'ignore-ranges': { kind: 'string', default: '', help: 'assume given addresses are OK' },
  'ignore-range-below-sp': { kind: 'string', default: '', help: 'do not report errors for accesses below the stack pointer' },
  'malloc-fill': { kind: 'int', default: -1, help: 'fill malloc\'d areas with given value' },
  'free-fill': { kind: 'int', default: -1, help: 'fill free\'d areas with given value' },
  'keep-stacktraces': { kind: { enum: ['alloc', 'free', 'alloc-and-free', 'alloc-then-free', 'none'] }, default: 'alloc-and-free', help: 'stack traces to record for blocks' },
  'show-mismatched-frees': { kind: 'bool', default: true, help: 'show frees that don\'t match the allocator' },
  'redzone-size': { kind: 'int', default: 16, help: 'minimum size of redzones around heap blocks' },
  // unigrind
  jit: { kind: 'bool', default: true, help: 'memcheck: run guest code on the translator (x86-64 → IR → JS), which tracks definedness; no: on Unicorn alone, without undefined-value errors (--tool=none uses Unicorn unless --jit=yes is given)' },
  xen: { kind: { enum: ['sim', 'host'] }, default: 'sim', help: 'Xen hypercalls: simulated hypervisor or the real /dev/xen/privcmd' },
  'xen-config': { kind: 'string', default: '', help: 'JSON description of the simulated Xen host' },
  'xen-coverage': { kind: 'bool', default: false, help: 'print the table of hypercalls, sub-ops and versions covered, and exit' },
};

const SHORT: Record<string, string> = { '-q': '--quiet', '-v': '--verbose', '-s': '--show-error-list=yes' };

/** A bad option: printed as one line by the CLI, exit status 1. */
export class OptionError extends Error {}

export type Options = Record<string, unknown> & {
  tool: string; 'trace-syscalls': boolean; quiet: boolean; verbose: boolean; xml: boolean; 'log-file': string;
  'xml-file': string; 'num-callers': number; 'error-exitcode': number; suppressions: string[]; 'leak-check': string;
};

/** Splits argv into options and the program's command line; the program is the first non-option word. */
export function parseArgs(argv: string[]): { opts: Options; prog?: string; args: string[]; help: boolean; version: boolean } {
  const opts: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(OPTION_TABLE)) opts[k] = Array.isArray(s.default) ? [...s.default] : s.default;
  let i = 0;
  let help = false;
  let version = false;
  const given = new Set<string>();
  for (; i < argv.length; i++) {
    let w = argv[i];
    if (!w.startsWith('-')) break;
    if (w === '--') {
      i++;
      break;
    }
    if (w === '-h' || w === '--help') { help = true; continue; }
    if (w === '--version') { version = true; continue; }
    w = SHORT[w] ?? w;
    const m = /^--([a-z0-9-]+)(?:=(.*))?$/s.exec(w);
    if (!m) throw new OptionError(`Bad option: ${argv[i]}`);
    const [, name, value] = m;
    const spec = OPTION_TABLE[name];
    if (!spec) throw new OptionError(`Unknown option: ${argv[i]}`);
    opts[name] = convert(name, spec.kind, value, opts[name]);
    given.add(name);
  }
  // Valgrind's default is per tool: inlined frames are read for memcheck (and helgrind, drd), not for
  // the others, so `--tool=none` stacks of -O2 code show only physical functions, as Valgrind's do.
  if (!given.has('read-inline-info')) opts['read-inline-info'] = opts.tool === 'memcheck';
  if (opts['show-reachable'] === true) opts['show-leak-kinds'] = 'all';
  if (opts['leak-check'] === 'yes') opts['leak-check'] = 'full';
  return { opts: opts as Options, prog: argv[i], args: argv.slice(i + 1), help, version };
}

function convert(name: string, kind: OptionKind, value: string | undefined, prev: unknown): unknown {
  if (kind === 'bool') {
    if (value === undefined && (name === 'quiet' || name === 'verbose')) return true;
    if (value === 'yes') return true;
    if (value === 'no') return false;
    throw new OptionError(`Bad option: --${name}${value === undefined ? '' : `=${value}`} (expected --${name}=yes or --${name}=no)`);
  }
  if (value === undefined) throw new OptionError(`Bad option: --${name} needs a value (--${name}=...)`);
  if (kind === 'int') {
    if (!/^-?(0x[0-9a-f]+|\d+)$/i.test(value)) throw new OptionError(`Bad option: --${name}=${value} (expected a number)`);
    return Number(value);
  }
  if (kind === 'string') return value;
  if (kind === 'list') return [...(prev as string[]), value];
  // Valgrind has more tools than unigrind: say so, rather than call a real tool name a bad value.
  if (name === 'tool' && !kind.enum.includes(value)) throw new OptionError(`--tool=${value}: tool not supported by unigrind (it has ${kind.enum.join(' and ')})`);
  if (!kind.enum.includes(value)) throw new OptionError(`Bad option: --${name}=${value} (expected one of ${kind.enum.join(', ')})`);
  return value;
}

/** The --help text, generated from the table. */
export function helpText(): string {
  const lines = ['usage: unigrind [options] prog-and-args', '', '  options:'];
  for (const [k, s] of Object.entries(OPTION_TABLE)) {
    const v = s.kind === 'bool' ? '=no|yes' : s.kind === 'int' ? '=<number>' : typeof s.kind === 'object' ? `=${s.kind.enum.join('|')}` : '=<value>';
    lines.push(`    --${k}${v}`.padEnd(44) + ` ${s.help} [${Array.isArray(s.default) ? 'none' : s.kind === 'bool' ? (s.default ? 'yes' : 'no') : String(s.default)}]`);
  }
  return lines.join('\n') + '\n';
}
