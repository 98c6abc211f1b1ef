/**
 * One stack frame in Valgrind's two renderings (its `describe_IP`): the human line
 * `0x1091A1: main (example.c:12)` and the XML `<frame>` element; plus XML escaping as Valgrind's
 * `%pS` does it (only `&`, `<`, `>`).
 */
import type { ErrorFrame } from '../errors/error-record';
import { hexUpper } from '../errors/format';

/** Escape text for XML content the way Valgrind does: `&`, `<` and `>` only. */
export function xmlEscape(s: string): string {
  return s.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

/** Options of the text rendering. */
export interface FrameTextOptions {
  /** --fullpath-after=PREFIX (repeatable): show the directory after the first matching prefix. */
  fullpathAfter?: readonly string[];
}

/**
 * The text after `at `/`by ` for one frame: `0xIP: fn (file:line)`, `0xIP: fn (in /obj)`,
 * `0xIP: fn (in ???)`, `0xIP: ??? (in /obj)` or `0xIP: ???`.
 */
export function frameText(f: ErrorFrame, options: FrameTextOptions = {}): string {
  return `${hexUpper(f.ip)}: ${frameLocationText(f, options)}`;
}

/**
 * The part of frameText after the address (`fn (file:line)`, …): what an editor shows next to a
 * link to the line, where the address says nothing.
 */
export function frameLocationText(f: Omit<ErrorFrame, 'ip'>, options: FrameTextOptions = {}): string {
  let s = f.fn ?? '???';
  if (f.file !== undefined) {
    let dir = '';
    const prefixes = options.fullpathAfter ?? [];
    if (f.dir !== undefined && f.dir !== '' && prefixes.length > 0) {
      // Valgrind drops everything up to and including the first listed prefix found in the
      // directory (a prefix that is not found leaves the whole directory), then a leading "./".
      dir = f.dir;
      for (const p of prefixes) {
        const at = dir.indexOf(p);
        if (at >= 0) { dir = dir.slice(at + p.length); break; }
      }
      if (dir.startsWith('./')) dir = dir.slice(2);
    }
    s += ` (${dir !== '' ? dir + '/' : ''}${f.file}:${f.line ?? 0})`;
  } else if (f.obj !== undefined) {
    s += ` (in ${f.obj})`;
  } else if (f.fn !== undefined) {
    s += ' (in ???)';
  }
  return s;
}

/** The text lines of a stack: `   at …` for the first frame, `   by …` for the others. */
export function stackTextLines(frames: readonly ErrorFrame[], options: FrameTextOptions = {}): string[] {
  return frames.map((f, i) => `   ${i === 0 ? 'at' : 'by'} ${frameText(f, options)}`);
}

/** The XML `<frame>` element of one frame, indented for its place inside `<stack>`, with its
 * own trailing newline. */
export function frameXml(f: ErrorFrame): string {
  let s = `    <frame>\n      <ip>${hexUpper(f.ip)}</ip>\n`;
  if (f.obj !== undefined) s += `      <obj>${xmlEscape(f.obj)}</obj>\n`;
  if (f.fn !== undefined) s += `      <fn>${xmlEscape(f.fn)}</fn>\n`;
  if (f.file !== undefined) {
    if (f.dir !== undefined && f.dir !== '') s += `      <dir>${xmlEscape(f.dir)}</dir>\n`;
    s += `      <file>${xmlEscape(f.file)}</file>\n`;
    if (f.line !== undefined) s += `      <line>${f.line}</line>\n`;
  }
  return s + '    </frame>\n';
}

/** A whole `<stack>` element with its trailing newline. */
export function stackXml(frames: readonly ErrorFrame[]): string {
  return '  <stack>\n' + frames.map(frameXml).join('') + '  </stack>\n';
}
