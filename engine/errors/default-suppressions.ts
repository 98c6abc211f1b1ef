/**
 * Locating and loading unigrind's default suppressions (`default.supp` beside this module's
 * source). The compiled module runs from dist/, where tsc does not copy data files, so both the
 * module's own directory and the source tree are looked at.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { ParseOptions, Suppression } from './suppressions';
import { loadSuppressionFile } from './suppressions';

/** Path of the default suppression file. Throws when it cannot be found. */
export function defaultSuppressionsPath(): string {
  const candidates = [
    path.join(__dirname, 'default.supp'),
    // dist/engine/errors → engine/errors in the source tree.
    path.resolve(__dirname, '..', '..', '..', 'engine', 'errors', 'default.supp'),
  ];
  for (const c of candidates) if (fs.existsSync(c)) return c;
  throw new Error(`default suppressions not found (looked at ${candidates.join(', ')})`);
}

/** Parse the default suppressions (what --default-suppressions=yes adds before --suppressions). */
export function loadDefaultSuppressions(options: ParseOptions = {}): Suppression[] {
  return loadSuppressionFile(defaultSuppressionsPath(), options);
}
