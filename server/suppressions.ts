/**
 * Valgrind suppressions: derive one from an error, write it in `.supp` syntax, read a `.supp`
 * file, and decide whether an entry matches an error — with the rules of Valgrind's
 * coregrind/m_errormgr.c (kind, kind-specific extra line, frame patterns innermost first, `...`
 * for any number of frames, the entry matching a prefix of the stack).
 */
import { funPattern } from './cxx-names';
import { valgrindGlob } from './glob';
import { leakKindWord, suppressionKindOf } from './kinds';
import type { ErrorRecord, SuppressionSpec, ValgrindFrame } from './protocol';

/** The manual's documented maximum of frame lines in an entry (VG_DEEPEST_BACKTRACE is larger). */
const MAX_FRAMES = 24;

/** A parsed `.supp` entry and where its name line is. */
export interface SuppressionEntry extends SuppressionSpec {
  name: string;
  /** 1-based line of the name in the file (what Valgrind's `used_suppression` reports). */
  line: number;
  /** The tools of the `Tool[,Tool…]:Kind` line; `kind` holds just the Kind part here. */
  tools: string[];
}

/**
 * The suppression for an error: Valgrind's own when the XML carried one (exact mangled names),
 * otherwise built from the stack like `--gen-suppressions=all` does — `fun:` per named frame
 * (C++ names turned into mangled-name patterns), `obj:` for frames known only by their object.
 * Undefined for kinds that cannot be suppressed.
 */
export function suppressionFor(rec: ErrorRecord): SuppressionSpec | undefined {
  const kind = suppressionKindOf(rec);
  if (!kind) return undefined;
  if (rec.suppression && rec.suppression.frames.length > 0 && rec.suppression.kind !== '') {
    return { kind: rec.suppression.kind, extra: [...rec.suppression.extra], frames: rec.suppression.frames.slice(0, MAX_FRAMES) };
  }
  const frames = rec.stack.slice(0, MAX_FRAMES).map(frameLine);
  if (frames.length === 0) return undefined;
  return { kind: kind.kind, extra: kind.extra, frames };
}

function frameLine(f: ValgrindFrame): string {
  if (f.fn && f.fn !== '???') return `fun:${funPattern(f.fn)}`;
  return `obj:${f.obj ?? '*'}`;
}

/** Render an entry as Valgrind writes it (three-space indent, braces alone on their lines). */
export function renderSuppression(name: string, spec: SuppressionSpec): string {
  const lines = ['{', `   ${sanitizeName(name)}`, `   ${spec.kind}`, ...spec.extra.map((x) => `   ${x}`), ...spec.frames.map((f) => `   ${f}`), '}'];
  return `${lines.join('\n')}\n`;
}

/** A name must stay on its line and must not look like the closing brace. */
export function sanitizeName(name: string): string {
  const clean = name.replace(/[\r\n{}]+/g, ' ').trim();
  return clean === '' ? 'unigrind-suppression' : clean;
}

/** Parse a suppression file; malformed entries are skipped, as the editor must not fail on them. */
export function parseSuppressions(text: string): SuppressionEntry[] {
  const entries: SuppressionEntry[] = [];
  const lines = text.split(/\r?\n/);
  let i = 0;
  while (i < lines.length) {
    const t = (lines[i] as string).trim();
    i++;
    if (t !== '{') continue;
    const body: { text: string; line: number }[] = [];
    while (i < lines.length && (lines[i] as string).trim() !== '}') {
      const s = (lines[i] as string).trim();
      if (s !== '' && !s.startsWith('#')) body.push({ text: s, line: i + 1 });
      i++;
    }
    i++; // the closing brace
    if (body.length < 2) continue;
    const name = body[0] as { text: string; line: number };
    const kindLine = (body[1] as { text: string }).text;
    const colon = kindLine.lastIndexOf(':');
    if (colon <= 0) continue;
    const entry: SuppressionEntry = {
      name: name.text,
      line: name.line,
      tools: kindLine.slice(0, colon).split(','),
      kind: kindLine.slice(colon + 1),
      extra: [],
      frames: [],
    };
    for (const b of body.slice(2)) {
      if (isFrameLine(b.text)) entry.frames.push(b.text);
      else if (entry.frames.length === 0) entry.extra.push(b.text);
    }
    entries.push(entry);
  }
  return entries;
}

function isFrameLine(s: string): boolean {
  return s === '...' || /^(?:fun|obj|src):/.test(s);
}

/** Valgrind's kind aliases: Value0 is Cond, BadSize is the older name of UnsafeZeroSize. */
function canonicalKind(kind: string): string {
  return ({ Value0: 'Cond', BadSize: 'UnsafeZeroSize' } as Record<string, string>)[kind] ?? kind;
}

/** True when a `.supp` entry suppresses the error. */
export function suppresses(entry: SuppressionEntry, rec: ErrorRecord): boolean {
  const want = suppressionKindOf(rec);
  if (!want) return false;
  const colon = want.kind.indexOf(':');
  const tool = want.kind.slice(0, colon);
  if (!entry.tools.includes(tool)) return false;
  if (canonicalKind(entry.kind) !== canonicalKind(want.kind.slice(colon + 1))) return false;
  if (!extraMatches(entry, rec, want.extra)) return false;
  return framesMatch(entry.frames, rec);
}

function extraMatches(entry: SuppressionEntry, rec: ErrorRecord, want: string[]): boolean {
  switch (entry.kind) {
    case 'Leak': {
      const line = entry.extra.find((x) => x.startsWith('match-leak-kinds:'));
      if (!line) return true; // absent = all kinds
      const set = line.slice('match-leak-kinds:'.length).split(',').map((s) => s.trim());
      const word = leakKindWord(rec.kind);
      return set.includes('all') || (word !== undefined && set.includes(word));
    }
    case 'Param':
    case 'CoreMem':
      return entry.extra[0] === want[0];
    case 'FishyValue':
      return entry.extra.length === 0 || entry.extra[0] === want[0];
    default:
      return true;
  }
}

/** The entry's frame lines must match a prefix of the stack; `...` matches zero or more frames. */
function framesMatch(patterns: string[], rec: ErrorRecord): boolean {
  const stack = rec.stack;
  // Valgrind's own generated lines name the same frames in the same order (mangled).
  const mangled = rec.suppression?.frames;
  const memo = new Map<string, boolean>();
  const go = (p: number, f: number): boolean => {
    if (p === patterns.length) return true;
    const key = `${p},${f}`;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    let ok: boolean;
    const pat = patterns[p] as string;
    if (pat === '...') ok = go(p + 1, f) || (f < stack.length && go(p, f + 1));
    else ok = f < stack.length && frameMatches(pat, stack[f] as ValgrindFrame, mangled?.[f]) && go(p + 1, f + 1);
    memo.set(key, ok);
    return ok;
  };
  return go(0, 0);
}

function frameMatches(pattern: string, frame: ValgrindFrame, generated: string | undefined): boolean {
  const body = pattern.slice(4);
  if (pattern.startsWith('fun:')) {
    const fn = frame.fn ?? '???';
    const re = valgrindGlob(body);
    if (re.test(fn)) return true;
    if (generated?.startsWith('fun:') && re.test(generated.slice(4))) return true;
    // Our own entries carry a mangled-name pattern derived from this very demangled name.
    return frame.fn !== undefined && body === funPattern(frame.fn);
  }
  if (pattern.startsWith('obj:')) return valgrindGlob(body).test(frame.obj ?? '???');
  if (pattern.startsWith('src:')) {
    const [file, line] = splitSrc(body);
    if (!frame.file || !valgrindGlob(file).test(frame.file)) return false;
    return line === undefined || frame.line === line;
  }
  return false;
}

function splitSrc(body: string): [string, number | undefined] {
  const m = /^(.*):(\d+)$/.exec(body);
  return m ? [m[1] as string, Number(m[2])] : [body, undefined];
}
