/**
 * What the editor does with each Valgrind error kind: its severity, the manual section that
 * explains it, its noun in counts. (How a suppression names it is the engine's business:
 * suppressions.ts.)
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
import { isValueError } from '../engine/report/text-writer';
import { engineView } from './engine-records';
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
  const record = engineView(rec).record;
  if (record?.syscallParam?.unaddressable === true || record?.unaddressable === true) return E;
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

/** True for errors about undefined values, where `--track-origins=yes` can tell where they came from. */
export function isUninitialised(rec: ErrorRecord): boolean {
  const record = engineView(rec).record;
  return record !== undefined && isValueError(record);
}

/** True when Valgrind recorded where the undefined value was created (`--track-origins=yes`). */
export function hasOrigin(rec: ErrorRecord): boolean {
  return engineView(rec).aux.some((a) => a.role === 'origin');
}
