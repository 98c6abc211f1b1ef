#!/usr/bin/env node
/** `unigrind [valgrind options] prog [args]`: the command-line entry. */
import { BadProgramError } from '../elf/elf-file';
import { GuestProcess } from '../process/guest-process';
import { LogFileNameError } from '../report/log-target';
import { Session, SessionError } from '../session/session';
import { OptionError, helpText, parseArgs } from './options';
import { formatCoverage } from '../xen';
import { refillClosedStdio } from '../host/stdio-refill';

const VERSION = '0.1.0';

/**
 * `--xen-coverage` is an action, not a setting: accept it bare (the option table's booleans
 * otherwise want `=yes`). Only option words before the program are looked at.
 */
function withBareXenCoverage(argv: string[]): string[] {
  const end = argv.findIndex((w) => !w.startsWith('-') || w === '--');
  return argv.map((w, i) => (w === '--xen-coverage' && (end < 0 || i < end) ? '--xen-coverage=yes' : w));
}

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(withBareXenCoverage(argv));
  } catch (e) {
    if (e instanceof OptionError) {
      // One line, like every other bad input (Valgrind adds a second "Use --help" line).
      process.stderr.write(`unigrind: ${e.message}; see unigrind --help\n`);
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
  if (opts['xen-coverage']) {
    process.stdout.write(formatCoverage());
    return 0;
  }
  if (!prog) {
    process.stderr.write('unigrind: no program specified (usage: unigrind [options] prog-and-args)\n');
    return 1;
  }
  const toolArgs = argv.slice(0, argv.indexOf(prog));
  let session: Session;
  try {
    session = new Session(opts, prog, args, process.env, toolArgs);
  } catch (e) {
    if (e instanceof BadProgramError || e instanceof SessionError || e instanceof LogFileNameError || e instanceof OptionError) {
      process.stderr.write(`unigrind: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  session.start();
  const { status, errors } = await session.run();
  if (status.signal !== undefined) GuestProcess.dieBySignal(status.signal);
  const code = status.code ?? 0;
  return errors > 0 && opts['error-exitcode'] !== 0 ? opts['error-exitcode'] : code;
}

main(process.argv.slice(2)).then((code) => {
  refillClosedStdio();
  process.exit(code);
}, (e: unknown) => {
  process.stderr.write(`unigrind: internal error: ${(e as Error)?.message ?? String(e)}\n`);
  if (process.env.UNIGRIND_DEBUG) process.stderr.write(`${(e as Error)?.stack}\n`);
  process.exit(1);
});
