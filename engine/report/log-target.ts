/**
 * Where text and XML output go: --log-file / --xml-file names with Valgrind's `%p`, `%n`,
 * `%q{VAR}` and `%%` expansion, --log-fd / --xml-fd, or any in-memory sink. Writes are
 * synchronous so that whatever was reported is on disk if the process ends abruptly.
 */
import * as fs from 'fs';
import * as path from 'path';

/** A destination for output text. */
export interface LogSink {
  write(text: string): void;
  /** Release the destination (closes files the sink opened; never closes an fd it was given). */
  close(): void;
}

/** A bad --log-file/--xml-file value, with Valgrind's explanation. */
export class LogFileNameError extends Error {
  constructor(readonly option: string, readonly value: string, readonly reason: string) {
    super(`${option}=${value}: ${reason}`);
    this.name = 'LogFileNameError';
  }
}

/** Context of file-name expansion. */
export interface ExpandContext {
  pid: number;
  env?: NodeJS.ProcessEnv;
  /** Directory relative names are resolved against (Valgrind: its startup directory). */
  cwd?: string;
  /** Sequence number for %n (Valgrind counts expansions per process, starting at 1). */
  sequence?: number;
}

/**
 * Expand a --log-file/--xml-file template the way Valgrind does: `%p` pid, `%n` sequence number,
 * `%q{VAR}` the environment variable (an error when unset), `%%` a percent sign; a relative
 * result is made absolute against the startup directory. Errors use Valgrind's wording.
 */
export function expandFileName(option: string, template: string, ctx: ExpandContext): string {
  const bad = (reason: string): never => { throw new LogFileNameError(option, template, reason); };
  if (template === '') bad('No filename given');
  if (template.startsWith('~')) {
    bad("Filename begins with '~'\nYou probably expected the shell to expand the '~', but it\n"
      + "didn't.  The rules for '~'-expansion vary from shell to shell.\nYou might have more luck using $HOME instead.");
  }
  const env = ctx.env ?? process.env;
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c !== '%') { out += c; continue; }
    const d = template[++i];
    if (d === '%') out += '%';
    else if (d === 'p') out += String(ctx.pid);
    else if (d === 'n') out += String(ctx.sequence ?? 1);
    else if (d === 'q') {
      if (template[++i] !== '{') bad("Expected '{' after '%q'");
      const close = template.indexOf('}', i + 1);
      if (close < 0) bad("Missing '}' in %q specifier");
      const name = template.slice(i + 1, close);
      const value = env[name];
      if (value === undefined) bad(`Environment variable '${name}' is not set`);
      out += value;
      i = close;
    } else bad("Expected 'p' or 'q' or '%' after '%'");
  }
  return out.startsWith('/') ? out : path.join(ctx.cwd ?? process.cwd(), out);
}

/** The `%q{VAR}` qualifiers of a template with their values, for XML `<logfilequalifier>`. */
export function fileQualifiers(template: string, env: NodeJS.ProcessEnv = process.env): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  const re = /%q\{([^}]*)\}/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(template))) out.push({ name: m[1], value: env[m[1]] ?? '' });
  return out;
}

/** A sink writing to a file descriptor it does not own (--log-fd, stderr). */
export function fdSink(fd: number): LogSink {
  return {
    write(text: string) { writeAll(fd, text); },
    close() { /* the fd belongs to the caller */ },
  };
}

/** A sink creating (truncating) a file; closed by close(). */
export function fileSink(file: string): LogSink {
  let fd: number | undefined = fs.openSync(file, 'w');
  return {
    write(text: string) { if (fd !== undefined) writeAll(fd, text); },
    close() { if (fd !== undefined) { fs.closeSync(fd); fd = undefined; } },
  };
}

/** A sink collecting text in memory (tests, the debug adapter's output channel). */
export class MemorySink implements LogSink {
  text = '';
  write(s: string): void { this.text += s; }
  close(): void { /* nothing to release */ }
}

function writeAll(fd: number, text: string): void {
  // Bytes, not UTF-16: Valgrind's output is whatever bytes the names contain (latin1 round-trips).
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
}

/** Options naming a log destination, as the command line gives them. */
export interface LogTargetOptions {
  /** --log-file / --xml-file template. */
  file?: string;
  /** --log-fd / --xml-fd. */
  fd?: number;
  /** Option name for error messages (`--log-file` or `--xml-file`). */
  option?: string;
}

/** The opened destination and whether it is a file (Valgrind prints "Parent PID:" then). */
export interface OpenedLogTarget {
  sink: LogSink;
  /** The expanded file name, when writing to a file. */
  file?: string;
  toFile: boolean;
}

/** Open the destination named by the options (a file wins over an fd; default stderr). */
export function openLogTarget(options: LogTargetOptions, ctx: ExpandContext): OpenedLogTarget {
  if (options.file !== undefined) {
    const file = expandFileName(options.option ?? '--log-file', options.file, ctx);
    return { sink: fileSink(file), file, toFile: true };
  }
  return { sink: fdSink(options.fd ?? 2), toFile: false };
}
