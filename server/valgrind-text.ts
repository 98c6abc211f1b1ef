/**
 * An error record in Valgrind's text form (coregrind/m_errormgr.c, m_libcprint.c): the primary
 * line, `at`/`by` frames, auxiliary lines indented by one space with their stacks — what a user
 * sees in a terminal, without the `==PID==` prefix.
 */
import type { ErrorRecord, ValgrindFrame } from './protocol';

/** One frame as Valgrind prints it after `at`/`by`: `fn (file:line)`, `fn (in obj)`, `???`. */
export function frameText(f: ValgrindFrame): string {
  const fn = f.fn ?? '???';
  if (f.file !== undefined && f.line !== undefined) return `${fn} (${f.file}:${f.line})`;
  if (f.obj !== undefined) return `${fn} (in ${f.obj})`;
  return fn;
}

/** A stack as Valgrind prints it: `   at 0x…: …` for the innermost frame, `   by 0x…: …` after. */
export function stackText(stack: ValgrindFrame[]): string[] {
  return stack.map((f, i) => {
    const ip = f.ip === undefined ? '' : `0x${f.ip.toString(16).toUpperCase()}: `;
    return `   ${i === 0 ? 'at' : 'by'} ${ip}${frameText(f)}`;
  });
}

/** The full text of an error, one string per line. */
export function errorText(rec: ErrorRecord): string[] {
  const lines = [rec.what, ...stackText(rec.stack)];
  for (const aux of rec.aux) {
    if (aux.text !== '') lines.push(` ${aux.text}`);
    if (aux.stack) lines.push(...stackText(aux.stack));
  }
  return lines;
}
