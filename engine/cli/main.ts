#!/usr/bin/env node
/** `unigrind [valgrind options] prog [args]`: the command-line entry. */
import * as fs from 'fs';
import { BadProgramError } from '../elf/elf-file';
import { launch } from '../process/launch';
import { GuestProcess, ExitStatus } from '../process/guest-process';
import { Log } from '../process/log';
import { CORE_SIGNALS, signalName } from '../process/signals';
import { OptionError, Options, helpText, parseArgs } from './options';
import { stackTextLines } from '../report/frames';
import { printedFrames } from '../errors/stack';

const VERSION = '0.1.0';

/** Expands Valgrind's %p and %q{VAR} in --log-file / --xml-file names. */
export function expandFileName(name: string, pid: number): string {
  return name.replace(/%p/g, String(pid)).replace(/%q\{([^}]*)\}/g, (_m, v: string) => process.env[v] ?? '').replace(/%%/g, '%');
}

function fail(msg: string): never {
  process.stderr.write(`unigrind: ${msg}\n`);
  process.exit(1);
}

function openLog(opts: Options): Log {
  if (opts['log-file']) {
    try {
      return new Log(fs.openSync(expandFileName(opts['log-file'], process.pid), 'w'), process.pid);
    } catch (e) {
      fail(`cannot create log file ${opts['log-file']}: ${(e as Error).message}`);
    }
  }
  // Our own copy of the destination, so that a guest closing fd 2 does not silence the report.
  return new Log(fs.openSync(`/proc/self/fd/${opts['log-fd'] as number}`, 'w'), process.pid);
}

function preamble(log: Log, opts: Options, argv: string[]): void {
  if (opts.quiet) return;
  if (opts.tool === 'none') {
    log.line('Nulgrind, the minimal Valgrind tool');
  } else {
    log.line('Memcheck, a memory error detector');
  }
  log.line(`unigrind ${VERSION}: Valgrind's tools rebuilt on the Unicorn CPU emulator`);
  log.line(`Using unigrind-${VERSION} and Unicorn 2; rerun with -h for copyright info`);
  log.line(`Command: ${argv.join(' ')}`);
  log.line('');
}

function reportFatalSignal(log: Log, st: ExitStatus, proc: GuestProcess, opts: Options): void {
  const sig = st.signal!;
  const f = st.fault;
  log.line('');
  log.line(`Process terminating with default action of signal ${sig} (${signalName(sig)})${CORE_SIGNALS.has(sig) ? '' : ''}`);
  if (f && sig === 11 && f.code === 1) log.line(` Access not within mapped region at address 0x${f.addr.toString(16).toUpperCase()}`);
  else if (f && sig === 11 && f.code === 2) log.line(` Bad permissions for mapped region at address 0x${f.addr.toString(16).toUpperCase()}`);
  else if (f && sig === 11) log.line(' General Protection Fault');
  else if (f && sig === 4) log.line(' Illegal opcode at address 0x' + f.addr.toString(16).toUpperCase());
  else if (f && sig === 8 && f.code === 1) log.line(' Integer divide by zero at address 0x' + f.addr.toString(16).toUpperCase());
  for (const l of stackTextLines(printedFrames(proc.debug.stackOf(proc.uc, opts['num-callers'])))) log.line(l);
  if (sig === 11 && f && f.code > 0) {
    log.line(' If you believe this happened as a result of a stack');
    log.line(" overflow in your program's main thread (unlikely but");
    log.line(' possible), you can try to increase the size of the');
    log.line(' main thread stack using the --main-stacksize= flag.');
    log.line(` The main thread stack size used in this run was ${opts['main-stacksize'] as number}.`);
  }
}

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(argv);
  } catch (e) {
    if (e instanceof OptionError) {
      process.stderr.write(`unigrind: ${e.message}\nunigrind: Use --help for more information.\n`);
      return 1;
    }
    throw e;
  }
  if (parsed.help) {
    process.stdout.write(helpText());
    return 0;
  }
  if (parsed.version) {
    process.stdout.write(`unigrind-${VERSION}\n`);
    return 0;
  }
  const { opts, prog, args } = parsed;
  if (!prog) fail('no program specified (usage: unigrind [options] prog-and-args)');
  const log = openLog(opts);
  let proc: GuestProcess;
  try {
    proc = launch(prog, args, process.env, { traceSyscalls: opts['trace-syscalls'], log }).proc;
  } catch (e) {
    if (e instanceof BadProgramError) fail(e.message);
    throw e;
  }
  preamble(log, opts, [prog, ...args]);
  const st = await proc.run();
  if (st.signal !== undefined) {
    reportFatalSignal(log, st, proc, opts);
    if (!opts.quiet) log.line('');
    GuestProcess.dieBySignal(st.signal);
  }
  if (!opts.quiet) log.line('');
  return st.code ?? 0;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (e: unknown) => {
  process.stderr.write(`unigrind: internal error: ${(e as Error)?.message ?? String(e)}\n`);
  if (process.env.UNIGRIND_DEBUG) process.stderr.write(`${(e as Error)?.stack}\n`);
  process.exit(1);
});
