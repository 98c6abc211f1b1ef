/**
 * Valgrind suppressions in the editor: derive one from a finding, write it in `.supp` syntax,
 * read the workspace's `.supp` file and decide which findings it hides. The rules are the
 * engine's (engine/errors/suppressions.ts: Valgrind 3.19's parser, kinds, extra lines and frame
 * matching); what is the editor's own is tolerance of a file being edited, entry names, and
 * standing in for unknown mangled names (engine-records.ts).
 */
import {
  generateSuppressionParts,
  parseSuppressions,
  suppressionMatches,
  suppressionText,
  type Suppression,
  type SuppressionSyntaxError,
} from '../engine/errors/suppressions';
import { engineView } from './engine-records';
import type { ErrorRecord, SuppressionSpec } from './protocol';

/** The manual's documented maximum of frame lines in an entry (VG_DEEPEST_BACKTRACE is larger). */
const MAX_FRAMES = 24;

/**
 * The suppression for an error: Valgrind's own when the XML carried one (exact mangled names),
 * otherwise the one `--gen-suppressions=all` would write for it. Undefined for kinds that cannot
 * be suppressed.
 */
export function suppressionFor(rec: ErrorRecord): SuppressionSpec | undefined {
  const record = engineView(rec).record;
  const parts = record && generateSuppressionParts(record);
  if (!parts) return undefined;
  if (rec.suppression && rec.suppression.frames.length > 0 && rec.suppression.kind !== '') {
    return { kind: rec.suppression.kind, extra: [...rec.suppression.extra], frames: rec.suppression.frames.slice(0, MAX_FRAMES) };
  }
  // Valgrind refuses an entry without frames ("missing stack trace").
  if (parts.frames.length === 0) return undefined;
  return {
    kind: parts.kind,
    extra: parts.extra !== undefined ? [parts.extra] : [],
    frames: parts.frames.slice(0, MAX_FRAMES).map((f) => ('fun' in f ? `fun:${f.fun}` : `obj:${f.obj}`)),
  };
}

/** Render an entry as Valgrind writes it (three-space indent, braces alone on their lines). */
export function renderSuppression(name: string, spec: SuppressionSpec): string {
  return suppressionText(sanitizeName(name), spec.kind, [...spec.extra, ...spec.frames]);
}

/** A name must stay on its line and must not look like the closing brace. */
export function sanitizeName(name: string): string {
  const clean = name.replace(/[\r\n{}]+/g, ' ').trim();
  return clean === '' ? 'unigrind-suppression' : clean;
}

/**
 * Parse a suppression file with Valgrind's rules, but skip malformed entries (each reported to
 * `onError`) instead of failing: the editor must keep working while the user edits the file.
 * Entries are not cut at `--num-callers` frames, which the editor does not know.
 */
export function parseSuppressionFile(text: string, file: string, onError: (e: SuppressionSyntaxError) => void = () => undefined): Suppression[] {
  return parseSuppressions(text, file, { numCallers: Number.POSITIVE_INFINITY, onSyntaxError: onError });
}

/** True when a `.supp` entry suppresses the error. */
export function suppresses(entry: Suppression, rec: ErrorRecord): boolean {
  const record = engineView(rec).record;
  return record !== undefined && suppressionMatches(entry, record);
}
