/**
 * Lines of source files, from the editor's open buffers when the file is open (they may differ
 * from the disk) or else from disk. Used to size diagnostic ranges and to find the function a
 * code lens belongs to.
 */
import * as fs from 'node:fs';

/** Lines of a file by absolute path, or undefined when unreadable. */
export interface TextSource {
  lines(path: string): string[] | undefined;
}

/** Reads open buffers first, then the disk; disk reads are cached until `reset()`. */
export class CachedTextSource implements TextSource {
  private readonly disk = new Map<string, string[] | undefined>();

  /** @param openText the text of an open buffer for a path, if any */
  constructor(private readonly openText: (path: string) => string | undefined) {}

  lines(path: string): string[] | undefined {
    const open = this.openText(path);
    if (open !== undefined) return open.split(/\r?\n/);
    if (!this.disk.has(path)) {
      let lines: string[] | undefined;
      try {
        lines = fs.readFileSync(path, 'utf8').split(/\r?\n/);
      } catch {
        lines = undefined;
      }
      this.disk.set(path, lines);
    }
    return this.disk.get(path);
  }

  /** Forget cached disk contents (files may have changed). */
  reset(): void {
    this.disk.clear();
  }
}

/** Range of a line's text without leading and trailing blanks (whole line when blank). */
export function lineSpan(lines: string[] | undefined, line: number): { start: number; end: number } {
  const text = lines?.[line];
  if (text === undefined) return { start: 0, end: 0 };
  const start = text.length - text.trimStart().length;
  const end = text.trimEnd().length;
  return end > start ? { start, end } : { start: 0, end: text.length };
}
