/**
 * The workspace's suppression file (setting `unigrind.suppressionFile`): its entries hide the
 * findings they match, and "Add suppression" appends to it on disk so that the next Valgrind or
 * unigrind run with `--suppressions=<file>` uses it as written.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Suppression } from '../engine/errors/suppressions';
import type { SuppressionSpec } from './protocol';
import { parseSuppressionFile, renderSuppression, sanitizeName } from './suppressions';

const HEADER = '# Valgrind suppressions (Memcheck). Entries added by unigrind\'s "Add suppression" quick fix.\n';

/** One suppression file, read on demand. */
export class SuppressionFile {
  private loadedText: string | undefined;
  private parsed: Suppression[] = [];
  private current: string | undefined;

  /** @param log reports malformed entries (they are skipped) */
  constructor(private readonly log: (message: string) => void = () => undefined) {}

  /** The file's absolute path, or undefined (no workspace folder). */
  get path(): string | undefined {
    return this.current;
  }

  /** The entries as last read. */
  get entries(): Suppression[] {
    return this.parsed;
  }

  /** Point at a (possibly different) file and read it; true when the entries changed. */
  load(filePath: string | undefined): boolean {
    let text: string | undefined;
    if (filePath !== undefined) {
      try {
        text = fs.readFileSync(filePath, 'utf8');
      } catch {
        text = undefined; // not created yet
      }
    }
    const changed = filePath !== this.current || text !== this.loadedText;
    this.current = filePath;
    this.loadedText = text;
    // The same text parses the same: malformed entries are reported once, not at every look.
    if (changed) this.parsed = text === undefined || filePath === undefined ? [] : this.parse(text, filePath);
    return changed;
  }

  /** The entries of the text; malformed ones are reported and skipped. */
  private parse(text: string, filePath: string): Suppression[] {
    return parseSuppressionFile(text, filePath, (e) => this.log(`unigrind: ${e.message} (entry skipped)`));
  }

  /**
   * Append an entry, creating the file (and its folder) when needed. A name already used in the
   * file gets a numeric suffix, since Valgrind reports suppressions by name.
   * @returns the name actually written
   */
  append(name: string, spec: SuppressionSpec): string {
    const file = this.current;
    if (file === undefined) throw new Error('no suppression file: open a workspace folder first');
    this.load(file);
    const used = new Set(this.parsed.map((e) => e.name));
    const base = sanitizeName(name);
    let unique = base;
    for (let n = 2; used.has(unique); n++) unique = `${base}-${n}`;
    const old = this.loadedText ?? '';
    const sep = old === '' ? HEADER : old.endsWith('\n') ? '' : '\n';
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.appendFileSync(file, sep + renderSuppression(unique, spec));
    this.load(file);
    return unique;
  }
}
