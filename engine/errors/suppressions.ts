/**
 * Valgrind suppression files: parsing (with Valgrind 3.19's rules and error messages), matching
 * an error record against a suppression, and generating the suppression for an error in text
 * (`--gen-suppressions`) and XML (`<suppression>` with `<rawtext>`) form.
 */
import * as fs from 'fs';
import type { ErrorFrame, ErrorKind, ErrorRecord, LeakState } from './error-record';
import { LEAK_STATES, leakStateOf } from './error-record';
import { sequenceMatch, wildcardMatch } from './glob';
import { parseLeakKinds } from './leak-kinds';
import { printedFrames, renameBelowMain } from './stack';

/** Memcheck suppression kinds Valgrind 3.19 recognises, plus the names newer Valgrinds added
 * (accepted so that files written for them load; they match only the newer error kinds). */
export const SUPPRESSION_KINDS = [
  'Param', 'User', 'CoreMem', 'Addr1', 'Addr2', 'Addr4', 'Addr8', 'Addr16', 'Addr32', 'Jump',
  'Free', 'Leak', 'Overlap', 'Mempool', 'Cond', 'Value0', 'Value1', 'Value2', 'Value4', 'Value8',
  'Value16', 'Value32', 'FishyValue',
  'ReallocZero', 'BadAlign', 'BadSize', 'UnsafeZeroSize', 'SizeMismatch', 'AlignMismatch',
] as const;
export type SuppressionKind = (typeof SUPPRESSION_KINDS)[number];

/** One frame line of a suppression. */
export type SuppressionFrame =
  | { type: 'fun'; pattern: string }
  | { type: 'obj'; pattern: string }
  | { type: 'src'; pattern: string; line?: number }
  | { type: '...' };

/** A parsed suppression. */
export interface Suppression {
  name: string;
  /** File it came from and the line of its name (what `used_suppression` prints). */
  file: string;
  line: number;
  kind: SuppressionKind;
  /** Param: the parameter name line (`write(buf)`). */
  param?: string;
  /** Leak: the kinds it matches (all when the file has no `match-leak-kinds:` line). */
  leakKinds?: Set<LeakState>;
  /** FishyValue: `function(argument)` when given. */
  fishy?: { fn: string; arg: string };
  frames: SuppressionFrame[];
}

/** A malformed suppression file. `message` names file:line; `reason` is Valgrind's own wording. */
export class SuppressionSyntaxError extends Error {
  constructor(readonly file: string, readonly line: number, readonly reason: string) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'SuppressionSyntaxError';
  }

  /** The three lines Valgrind prints (each to be prefixed with ==PID==) before exiting 1. */
  valgrindLines(): string[] {
    return [`FATAL: in suppressions file "${this.file}" near line ${this.line}:`, `   ${this.reason}`, 'exiting now.'];
  }
}

/** Options of the parser. */
export interface ParseOptions {
  /** The tool name a suppression must list to be kept (`Memcheck`); others are skipped. */
  tool?: string;
  /** --num-callers: frame lines beyond it are ignored, as Valgrind does. */
  numCallers?: number;
  /**
   * Recover from malformed entries instead of throwing: each error is handed here and the parser
   * goes on after the entry's closing brace. Valgrind exits on the first one; an editor showing a
   * file the user is still typing must keep the entries that are well formed.
   */
  onSyntaxError?: (error: SuppressionSyntaxError) => void;
}

/** Valgrind's own cap on stack depth, and so on frame lines. */
const DEEPEST_BACKTRACE = 500;

interface Line { text: string; lineno: number }

/**
 * Split a file into Valgrind's "non-blank non-comment" lines: leading whitespace dropped, then
 * trailing whitespace; lines starting with '#' dropped. `lineno` is the number of newlines
 * consumed once the line is read, i.e. its 1-based line number (one less for a last line with
 * no newline), which is what Valgrind reports.
 */
function tokenize(text: string): { lines: Line[]; eofLine: number } {
  const lines: Line[] = [];
  let newlines = 0;
  let i = 0;
  const n = text.length;
  const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';
  while (i < n) {
    while (i < n && isSpace(text[i])) { if (text[i] === '\n') newlines++; i++; }
    if (i >= n) break;
    const start = i;
    while (i < n && text[i] !== '\n') i++;
    let line = text.slice(start, i);
    if (i >= n) {
      // Valgrind returns a final unterminated line as it is: neither trimmed nor comment-checked.
      lines.push({ text: line, lineno: newlines });
      break;
    }
    i++; newlines++;
    line = line.replace(/[ \t\r\v\f]+$/, '');
    if (line[0] !== '#') lines.push({ text: line, lineno: newlines });
  }
  return { lines, eofLine: newlines };
}

function isLocationLine(s: string): boolean {
  return s.startsWith('fun:') || s.startsWith('obj:') || s === '...';
}

function toolListed(tool: string, list: string): boolean {
  return list.split(',').includes(tool);
}

function parseFrame(s: string): SuppressionFrame | undefined {
  if (s.startsWith('fun:')) return { type: 'fun', pattern: s.slice(4) };
  if (s.startsWith('obj:')) return { type: 'obj', pattern: s.slice(4) };
  if (s.startsWith('src:')) {
    const rest = s.slice(4);
    const colon = rest.indexOf(':');
    if (colon < 0) return { type: 'src', pattern: rest };
    // Valgrind reads the line with strtoll: leading digits, 0 when there are none.
    const digits = /^\s*[+-]?\d+/.exec(rest.slice(colon + 1));
    const line = digits ? parseInt(digits[0], 10) : 0;
    return line !== 0 ? { type: 'src', pattern: rest.slice(0, colon), line } : { type: 'src', pattern: rest.slice(0, colon) };
  }
  if (s === '...') return { type: '...' };
  return undefined;
}

/**
 * Parse the text of a suppression file. Suppressions for other tools are skipped. Throws
 * SuppressionSyntaxError on the first malformed entry, with the line Valgrind would name.
 */
export function parseSuppressions(text: string, file: string, options: ParseOptions = {}): Suppression[] {
  const tool = options.tool ?? 'Memcheck';
  const numCallers = options.numCallers ?? 12;
  const { lines, eofLine } = tokenize(text);
  let pos = 0;
  let lineno = 0;
  const next = (): string | undefined => {
    if (pos >= lines.length) { lineno = eofLine; return undefined; }
    const l = lines[pos++];
    lineno = l.lineno;
    return l.text;
  };
  const bomb = (reason: string): never => { throw new SuppressionSyntaxError(file, lineno, reason); };
  const out: Suppression[] = [];

  while (pos < lines.length) {
    try {
      const supp = parseEntry();
      if (supp) out.push(supp);
    } catch (e) {
      if (!(e instanceof SuppressionSyntaxError) || options.onSyntaxError === undefined) throw e;
      options.onSyntaxError(e);
      // Resynchronise: the entry ends at its closing brace (perhaps the line that failed), or
      // where the next one opens (an opening brace that failed as this entry's line is read
      // again: it cannot be this entry's own, which never fails).
      const failed = pos > 0 ? lines[pos - 1].text : undefined;
      if (failed === '}') continue;
      if (failed === '{') { pos--; continue; }
      while (pos < lines.length && lines[pos].text !== '}' && lines[pos].text !== '{') pos++;
      if (pos < lines.length && lines[pos].text === '}') pos++;
    }
  }
  return out;

  /** One entry, from its opening brace; undefined for another tool's entry (skipped). */
  function parseEntry(): Suppression | undefined {
    let buf = next();
    if (buf !== '{') bomb("expected '{' or end-of-file");
    buf = next();
    if (buf === undefined || buf === '}') bomb("unexpected '}'");
    const name = buf as string;
    const nameLine = lineno;
    buf = next();
    if (buf === undefined) bomb('unexpected end-of-file (expecting tool:suppr)');
    const colon = (buf as string).indexOf(':');
    if (colon < 0) bomb("malformed 'tool1,tool2,...:supp' line");
    const tools = (buf as string).slice(0, colon);
    const kindName = (buf as string).slice(colon + 1);

    if (toolListed('core', tools)) bomb('unknown core suppression type');
    if (!toolListed(tool, tools)) {
      // Another tool's suppression: skip to its closing brace.
      for (;;) {
        const l = next();
        if (l === undefined) bomb('unexpected end-of-file (when skipping suppression)');
        if (l === '}') break;
      }
      return undefined;
    }
    if (!(SUPPRESSION_KINDS as readonly string[]).includes(kindName)) bomb('unknown tool suppression type');
    // Value0 is the old spelling of Cond; BadSize the old one of UnsafeZeroSize.
    const kind = (kindName === 'Value0' ? 'Cond' : kindName === 'BadSize' ? 'UnsafeZeroSize' : kindName) as SuppressionKind;
    const supp: Suppression = { name, file, line: nameLine, kind, frames: [] };

    // Kind-specific extra line. Valgrind's reader treats a location line here as "no extra line"
    // and hands it on to the frame loop.
    let pending: string | undefined;
    const extraLine = (): string | undefined => {
      const l = next();
      if (l !== undefined && isLocationLine(l)) { pending = l; return undefined; }
      return l;
    };
    if (kind === 'Param') {
      const l = extraLine();
      if (l === undefined) bomb('bad or missing extra suppression info');
      supp.param = l;
    } else if (kind === 'Leak') {
      supp.leakKinds = new Set(LEAK_STATES);
      const l = extraLine();
      if (l !== undefined) {
        if (!l.startsWith('match-leak-kinds:')) bomb('bad or missing extra suppression info');
        const set = parseLeakKinds(l.slice('match-leak-kinds:'.length).replace(/^[ \t\r\v\f\n]+/, ''));
        if (!set) bomb('bad or missing extra suppression info');
        supp.leakKinds = set;
      }
    } else if (kind === 'FishyValue') {
      const l = extraLine();
      if (l !== undefined) {
        const m = /^([^(]*)\(([^)]*)\)/.exec(l);
        if (!m) bomb('bad or missing extra suppression info');
        supp.fishy = { fn: (m as RegExpExecArray)[1], arg: (m as RegExpExecArray)[2] };
      }
    }

    let closed = false;
    for (;;) {
      let l: string | undefined;
      if (pending !== undefined) { l = pending; pending = undefined; } else l = next();
      if (l === undefined) bomb('unexpected end-of-file (when reading stack trace)');
      if (l === '}') {
        if (supp.frames.length > 0) { closed = true; break; }
        bomb('missing stack trace');
      }
      if (supp.frames.length === DEEPEST_BACKTRACE) bomb('too many callers in stack trace');
      if (supp.frames.length > 0 && supp.frames.length >= numCallers) break;
      const f = parseFrame(l as string);
      if (!f) bomb('location should be "...", or should start with "fun:", "obj:", or "src:"');
      supp.frames.push(f as SuppressionFrame);
    }
    if (!closed) {
      // More frame lines than --num-callers: the rest are ignored up to the closing brace.
      for (;;) { const l = next(); if (l === undefined || l === '}') break; }
    }
    if (supp.frames.every((f) => f.type === '...')) {
      bomb('suppression must contain at least one location line which is not "..."');
    }
    return supp;
  }
}

/** Read and parse a suppression file (see parseSuppressions). */
export function loadSuppressionFile(path: string, options: ParseOptions = {}): Suppression[] {
  return parseSuppressions(fs.readFileSync(path, 'latin1'), path, options);
}

/** The Memcheck suppression kind name of an error (`Addr4`, `Param`, `Leak`, …), or undefined
 * for errors that cannot be suppressed. */
export function suppressionKindOf(rec: ErrorRecord): string | undefined {
  switch (rec.kind) {
    case 'InvalidRead':
    case 'InvalidWrite': return `Addr${rec.size ?? 0}`;
    case 'UninitValue': return `Value${rec.size ?? 0}`;
    case 'UninitCondition': return 'Cond';
    case 'SyscallParam': return 'Param';
    case 'ClientCheck': return 'User';
    case 'InvalidFree':
    case 'MismatchedFree': return 'Free';
    case 'Overlap': return 'Overlap';
    case 'InvalidJump': return 'Jump';
    case 'InvalidMemPool': return 'Mempool';
    case 'CoreMemError': return 'CoreMem';
    case 'FishyValue': return 'FishyValue';
    case 'Leak_DefinitelyLost':
    case 'Leak_IndirectlyLost':
    case 'Leak_PossiblyLost':
    case 'Leak_StillReachable': return 'Leak';
    case 'ReallocSizeZero': return 'ReallocZero';
    case 'InvalidSizeAndAlignment':
    case 'InvalidAlignment': return 'BadAlign';
    case 'InvalidSize': return 'UnsafeZeroSize';
    case 'MismatchedAllocateDeallocateSize': return 'SizeMismatch';
    case 'MismatchedAllocateDeallocateAlignment': return 'AlignMismatch';
    case 'FdBadClose':
    case 'FdNotClosed':
    case 'FdBadUse': return undefined;
  }
}

/** The kind-specific extra line of a generated suppression (`write(buf)`,
 * `match-leak-kinds: definite`, `malloc(size)`), or undefined when the kind has none. */
export function suppressionExtraOf(rec: ErrorRecord): string | undefined {
  if (rec.kind === 'SyscallParam' && rec.syscallParam) return rec.syscallParam.name;
  if (rec.kind === 'FishyValue' && rec.fishy) return `${rec.fishy.fn}(${rec.fishy.arg})`;
  const state = leakStateOf(rec.kind);
  if (state) return `match-leak-kinds: ${state}`;
  return undefined;
}

const KIND_MATCHES: Record<SuppressionKind, (r: ErrorRecord) => boolean> = {
  Param: (r) => r.kind === 'SyscallParam',
  User: (r) => r.kind === 'ClientCheck',
  // Valgrind 3.19 reads no extra line for CoreMem, so its string comparison can never succeed.
  CoreMem: () => false,
  Addr1: (r) => isAddr(r.kind) && r.size === 1,
  Addr2: (r) => isAddr(r.kind) && r.size === 2,
  Addr4: (r) => isAddr(r.kind) && r.size === 4,
  Addr8: (r) => isAddr(r.kind) && r.size === 8,
  Addr16: (r) => isAddr(r.kind) && r.size === 16,
  Addr32: (r) => isAddr(r.kind) && r.size === 32,
  Jump: (r) => r.kind === 'InvalidJump',
  Free: (r) => r.kind === 'InvalidFree' || r.kind === 'MismatchedFree',
  Leak: (r) => leakStateOf(r.kind) !== undefined,
  Overlap: (r) => r.kind === 'Overlap',
  Mempool: (r) => r.kind === 'InvalidMemPool',
  Cond: (r) => r.kind === 'UninitCondition',
  Value0: (r) => r.kind === 'UninitCondition',
  Value1: (r) => r.kind === 'UninitValue' && r.size === 1,
  Value2: (r) => r.kind === 'UninitValue' && r.size === 2,
  Value4: (r) => r.kind === 'UninitValue' && r.size === 4,
  Value8: (r) => r.kind === 'UninitValue' && r.size === 8,
  Value16: (r) => r.kind === 'UninitValue' && r.size === 16,
  Value32: (r) => r.kind === 'UninitValue' && r.size === 32,
  FishyValue: (r) => r.kind === 'FishyValue',
  ReallocZero: (r) => r.kind === 'ReallocSizeZero',
  BadAlign: (r) => r.kind === 'InvalidSizeAndAlignment' || r.kind === 'InvalidAlignment',
  BadSize: (r) => r.kind === 'InvalidSize',
  UnsafeZeroSize: (r) => r.kind === 'InvalidSize',
  SizeMismatch: (r) => r.kind === 'MismatchedAllocateDeallocateSize',
  AlignMismatch: (r) => r.kind === 'MismatchedAllocateDeallocateAlignment',
};

function isAddr(k: ErrorKind): boolean {
  return k === 'InvalidRead' || k === 'InvalidWrite';
}

/** Does the suppression's kind (and extra line) match the error? Frames are not looked at. */
export function suppressionKindMatches(supp: Suppression, rec: ErrorRecord): boolean {
  if (!KIND_MATCHES[supp.kind](rec)) return false;
  switch (supp.kind) {
    case 'Param':
      return rec.syscallParam !== undefined && rec.syscallParam.name === supp.param;
    case 'Leak': {
      const state = leakStateOf(rec.kind);
      return state !== undefined && (supp.leakKinds?.has(state) ?? true);
    }
    case 'FishyValue':
      // Without a function(argument) line the suppression matches every fishy value.
      return supp.fishy === undefined
        || (rec.fishy !== undefined && rec.fishy.fn === supp.fishy.fn && rec.fishy.arg === supp.fishy.arg);
    default:
      return true;
  }
}

/** Options of frame matching. */
export interface MatchOptions {
  /** --show-below-main: when false (default), below-main functions are named "(below main)". */
  showBelowMain?: boolean;
}

/**
 * Do the suppression's frame lines match the error's stack? The whole stack is used (Valgrind
 * matches the recorded addresses, not the printed frames), innermost first; the pattern need
 * only match a prefix. `fun:` compares the mangled name, `obj:` the object path, `src:` the
 * source file (and line); an unknown name compares as "???". Simplification: `src:` uses each
 * frame's own file and line, where Valgrind looks up the physical address even for inlined frames.
 */
export function framesMatch(frames: readonly SuppressionFrame[], stack: readonly ErrorFrame[], options: MatchOptions = {}): boolean {
  const input = options.showBelowMain ? stack : stack.map(renameBelowMain);
  return sequenceMatch(
    frames,
    input.length,
    (p) => p.type === '...',
    () => false,
    (p, i) => {
      const f = input[i];
      switch (p.type) {
        case 'fun': return wildcardMatch(p.pattern, f.mangled ?? f.fn ?? '???');
        case 'obj': return wildcardMatch(p.pattern, f.obj ?? '???');
        case 'src':
          if (f.file === undefined) return false;
          return wildcardMatch(p.pattern, f.file) && (p.line === undefined || p.line === f.line);
        case '...': return true;
      }
    },
    false,
  );
}

/** Does the suppression match the error (kind, extra line and frames)? */
export function suppressionMatches(supp: Suppression, rec: ErrorRecord, options: MatchOptions = {}): boolean {
  return suppressionKindMatches(supp, rec) && framesMatch(supp.frames, rec.stack, options);
}

/** A frame line of a generated suppression: the raw function name, else the object, else `*`. */
function generatedFrame(f: ErrorFrame): { fun: string } | { obj: string } {
  const fun = f.mangled ?? f.fn;
  if (fun !== undefined) return { fun };
  return { obj: f.obj ?? '*' };
}

/** The tool name Valgrind writes before the kind. */
const TOOL_NAME = 'Memcheck';

/**
 * An entry in the text form Valgrind writes and reads: braces alone on their lines, and between
 * them the name, the `Tool:Kind` line and the extra and frame lines, indented by three spaces.
 */
export function suppressionText(name: string, kind: string, lines: readonly string[]): string {
  return `{\n${[name, kind, ...lines].map((l) => `   ${l}\n`).join('')}}\n`;
}

/**
 * The text form of the suppression for an error, exactly as --gen-suppressions prints it
 * (ending with a newline), or undefined when the error cannot be suppressed.
 */
export function generateSuppression(rec: ErrorRecord, options: MatchOptions = {}): string | undefined {
  const kind = suppressionKindOf(rec);
  if (kind === undefined) return undefined;
  const extra = suppressionExtraOf(rec);
  const lines = extra !== undefined && extra !== '' ? [extra] : [];
  for (const f of printedFrames(rec.stack, options.showBelowMain)) {
    const g = generatedFrame(f);
    lines.push('fun' in g ? `fun:${g.fun}` : `obj:${g.obj}`);
  }
  return suppressionText('<insert_a_suppression_name_here>', `${TOOL_NAME}:${kind}`, lines);
}

/** The parts of a generated suppression that the XML `<suppression>` element lists. */
export interface GeneratedSuppression {
  kind: string;
  extra?: string;
  frames: ({ fun: string } | { obj: string })[];
  rawText: string;
}

/** The generated suppression as structured parts (for XML), or undefined when not suppressible. */
export function generateSuppressionParts(rec: ErrorRecord, options: MatchOptions = {}): GeneratedSuppression | undefined {
  const kind = suppressionKindOf(rec);
  const rawText = generateSuppression(rec, options);
  if (kind === undefined || rawText === undefined) return undefined;
  const extra = suppressionExtraOf(rec);
  const parts: GeneratedSuppression = {
    kind: `${TOOL_NAME}:${kind}`,
    frames: printedFrames(rec.stack, options.showBelowMain).map(generatedFrame),
    rawText,
  };
  if (extra !== undefined && extra !== '') parts.extra = extra;
  return parts;
}
