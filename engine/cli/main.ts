#!/usr/bin/env node
/** `unigrind [valgrind options] prog [args]`: the command-line entry. */
import { BadProgramError } from '../elf/elf-file';
import { GuestProcess } from '../process/guest-process';
import { LogFileNameError } from '../report/log-target';
import { Session, SessionError } from '../session/session';
import { OptionError, helpText, parseArgs } from './options';

const VERSION = '0.1.0';

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

main(process.argv.slice(2)).then((code) => process.exit(code), (e: unknown) => {
  process.stderr.write(`unigrind: internal error: ${(e as Error)?.message ?? String(e)}\n`);
  if (process.env.UNIGRIND_DEBUG) process.stderr.write(`${(e as Error)?.stack}\n`);
  process.exit(1);
});
