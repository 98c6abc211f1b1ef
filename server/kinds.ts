/**
 * What the editor does with each Valgrind error kind: its severity, the manual section that
 * explains it, and how a suppression names it.
 *
 * Severity choice (documented for users in extension/README.md):
 * - Error: the program did something undefined right there — invalid read/write/jump, bad or
 *   mismatched free, overlapping copy, unaddressable syscall/client-check memory, bad mempool,
 *   invalid alignment or mismatched sizes, bad fd use, death by signal.
 * - Warning: uninitialised values (the bug is often elsewhere, where the value was created),
 *   fishy arguments, zero-size allocations, and definitely lost leaks (a real bug, but not a
 *   crash).
 * - Information: possibly lost (may be a false alarm: an interior pointer still exists) and
 *   indirectly lost (it disappears when the definitely lost block that owns it is fixed), fds
 *   left open.
 * - Hint: still reachable (memory not freed at exit, usually harmless).
 * Unknown kinds (a newer Valgrind) are Warnings.
 */
import { DiagnosticSeverity } from 'vscode-languageserver';
import type { ErrorRecord } from './protocol';

const MANUAL = 'https://valgrind.org/docs/manual/';

/** Synthetic kind given to a `<fatal_signal>` so that a crash shows like an error. */
export const FATAL_SIGNAL_KIND = 'FatalSignal';

interface KindInfo {
  severity: DiagnosticSeverity;
  /** Page and anchor in Valgrind's manual. */
  doc: string;
  /** Valgrind's family word for the code-lens summary. */
  noun: string;
}

const E = DiagnosticSeverity.Error;
const W = DiagnosticSeverity.Warning;
const I = DiagnosticSeverity.Information;
const H = DiagnosticSeverity.Hint;

const KINDS: Record<string, KindInfo> = {
  InvalidRead: { severity: E, doc: 'mc-manual.html#mc-manual.badrw', noun: 'invalid read' },
  InvalidWrite: { severity: E, doc: 'mc-manual.html#mc-manual.badrw', noun: 'invalid write' },
  InvalidJump: { severity: E, doc: 'mc-manual.html#mc-manual.errormsgs', noun: 'invalid jump' },
  UninitCondition: { severity: W, doc: 'mc-manual.html#mc-manual.uninitvals', noun: 'uninitialised condition' },
  UninitValue: { severity: W, doc: 'mc-manual.html#mc-manual.uninitvals', noun: 'uninitialised value' },
  SyscallParam: { severity: W, doc: 'mc-manual.html#mc-manual.bad-syscall-args', noun: 'bad syscall param' },
  ClientCheck: { severity: W, doc: 'mc-manual.html#mc-manual.clientreqs', noun: 'client check' },
  InvalidFree: { severity: E, doc: 'mc-manual.html#mc-manual.badfrees', noun: 'invalid free' },
  MismatchedFree: { severity: E, doc: 'mc-manual.html#mc-manual.rudefn', noun: 'mismatched free' },
  Overlap: { severity: E, doc: 'mc-manual.html#mc-manual.overlap', noun: 'overlap' },
  InvalidMemPool: { severity: E, doc: 'mc-manual.html#mc-manual.mempools', noun: 'invalid mempool' },
  CoreMemError: { severity: E, doc: 'mc-manual.html#mc-manual.errormsgs', noun: 'core memory error' },
  FishyValue: { severity: W, doc: 'mc-manual.html#mc-manual.fishyvalue', noun: 'fishy value' },
  Leak_DefinitelyLost: { severity: W, doc: 'mc-manual.html#mc-manual.leaks', noun: 'definite leak' },
  Leak_IndirectlyLost: { severity: I, doc: 'mc-manual.html#mc-manual.leaks', noun: 'indirect leak' },
  Leak_PossiblyLost: { severity: I, doc: 'mc-manual.html#mc-manual.leaks', noun: 'possible leak' },
  Leak_StillReachable: { severity: H, doc: 'mc-manual.html#mc-manual.leaks', noun: 'reachable block' },
  ReallocSizeZero: { severity: W, doc: 'mc-manual.html#mc-manual.errormsgs', noun: 'realloc of size 0' },
  InvalidSizeAndAlignment: { severity: E, doc: 'mc-manual.html#mc-manual.errormsgs', noun: 'invalid size and alignment' },
  InvalidAlignment: { severity: E, doc: 'mc-manual.html#mc-manual.errormsgs', noun: 'invalid alignment' },
  InvalidSize: { severity: W, doc: 'mc-manual.html#mc-manual.errormsgs', noun: 'zero-size allocation' },
  MismatchedAllocateDeallocateSize: { severity: E, doc: 'mc-manual.html#mc-manual.errormsgs', noun: 'size mismatch' },
  MismatchedAllocateDeallocateAlignment: { severity: E, doc: 'mc-manual.html#mc-manual.errormsgs', noun: 'alignment mismatch' },
  FdBadClose: { severity: E, doc: 'manual-core.html#opt.track-fds', noun: 'bad close' },
  FdBadUse: { severity: E, doc: 'manual-core.html#opt.track-fds', noun: 'bad fd use' },
  FdNotClosed: { severity: I, doc: 'manual-core.html#opt.track-fds', noun: 'fd not closed' },
  [FATAL_SIGNAL_KIND]: { severity: E, doc: 'manual-core.html#manual-core.signals', noun: 'fatal signal' },
};

/** Diagnostic severity of an error (some kinds depend on the message: unaddressable vs undefined). */
export function severityOf(rec: ErrorRecord): DiagnosticSeverity {
  if ((rec.kind === 'SyscallParam' || rec.kind === 'ClientCheck') && /unaddressable/i.test(rec.what)) return E;
  return KINDS[rec.kind]?.severity ?? W;
}

/** Link to the manual section that explains the kind. */
export function docLinkOf(kind: string): string {
  return MANUAL + (KINDS[kind]?.doc ?? 'mc-manual.html#mc-manual.errormsgs');
}

/** Short noun for counts ("2 invalid reads"); unknown kinds use their own name. */
export function nounOf(kind: string): string {
  return KINDS[kind]?.noun ?? kind;
}

/** True for the four leak kinds. */
export function isLeak(kind: string): boolean {
  return kind.startsWith('Leak_');
}

/** Valgrind's `match-leak-kinds:` word for a leak kind. */
export function leakKindWord(kind: string): string | undefined {
  return ({ Leak_DefinitelyLost: 'definite', Leak_IndirectlyLost: 'indirect', Leak_PossiblyLost: 'possible', Leak_StillReachable: 'reachable' } as Record<string, string>)[kind];
}

/** True for errors about undefined values, where `--track-origins=yes` can tell where they came from. */
export function isUninitialised(rec: ErrorRecord): boolean {
  if (rec.kind === 'UninitCondition' || rec.kind === 'UninitValue') return true;
  return (rec.kind === 'SyscallParam' || rec.kind === 'ClientCheck') && /uninitialised/i.test(rec.what);
}

/** True when Valgrind recorded where the undefined value was created (`--track-origins=yes`). */
export function hasOrigin(rec: ErrorRecord): boolean {
  return rec.aux.some((a) => a.text.startsWith('Uninitialised value was created'));
}

/**
 * The `Tool:Kind` line and extra lines of a suppression for this error, as Valgrind's
 * `--gen-suppressions` writes them (memcheck/mc_errors.c `MC_(get_error_name)` and
 * `MC_(get_extra_suppression_info)`); undefined for kinds that cannot be suppressed.
 */
export function suppressionKindOf(rec: ErrorRecord): { kind: string; extra: string[] } | undefined {
  const size = /of size (\d+)/.exec(rec.what)?.[1];
  switch (rec.kind) {
    case 'InvalidRead':
    case 'InvalidWrite':
      return size ? { kind: `Memcheck:Addr${size}`, extra: [] } : undefined;
    case 'UninitValue':
      return size ? { kind: `Memcheck:Value${size}`, extra: [] } : undefined;
    case 'UninitCondition': return { kind: 'Memcheck:Cond', extra: [] };
    case 'SyscallParam': {
      const param = /^Syscall param (.+?) (?:contains|points to)/.exec(rec.what)?.[1];
      return param ? { kind: 'Memcheck:Param', extra: [param] } : undefined;
    }
    case 'ClientCheck': return { kind: 'Memcheck:User', extra: [] };
    case 'InvalidFree':
    case 'MismatchedFree': return { kind: 'Memcheck:Free', extra: [] };
    case 'Overlap': return { kind: 'Memcheck:Overlap', extra: [] };
    case 'InvalidJump': return { kind: 'Memcheck:Jump', extra: [] };
    case 'InvalidMemPool': return { kind: 'Memcheck:Mempool', extra: [] };
    case 'CoreMemError': {
      const what = /^(.*) contains unaddressable byte\(s\)$/.exec(rec.what)?.[1];
      return what ? { kind: 'Memcheck:CoreMem', extra: [what] } : undefined;
    }
    case 'FishyValue': {
      const m = /^Argument '(.+?)' of function (.+?) has a fishy/.exec(rec.what);
      return { kind: 'Memcheck:FishyValue', extra: m ? [`${m[2]}(${m[1]})`] : [] };
    }
    case 'ReallocSizeZero': return { kind: 'Memcheck:ReallocZero', extra: [] };
    case 'InvalidSizeAndAlignment':
    case 'InvalidAlignment': return { kind: 'Memcheck:BadAlign', extra: [] };
    case 'InvalidSize': return { kind: 'Memcheck:UnsafeZeroSize', extra: [] };
    case 'MismatchedAllocateDeallocateSize': return { kind: 'Memcheck:SizeMismatch', extra: [] };
    case 'MismatchedAllocateDeallocateAlignment': return { kind: 'Memcheck:AlignMismatch', extra: [] };
    case 'FdBadClose':
    case 'FdBadUse':
    case 'FdNotClosed': return { kind: `CoreError:${rec.kind}`, extra: [] };
    default: {
      const word = leakKindWord(rec.kind);
      return word ? { kind: 'Memcheck:Leak', extra: [`match-leak-kinds: ${word}`] } : undefined;
    }
  }
}
