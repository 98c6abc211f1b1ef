/**
 * The error record: everything Valgrind's Memcheck knows about one detected error, in the
 * fields its text and XML (protocols 4–6) print. Producers (memcheck, the kernel's syscall
 * checks, the leak checker) build records with the helpers in `records.ts`; the XML reader
 * rebuilds them from Valgrind's own output; every consumer reads the same shape.
 */
import type { StackFrame } from '../debuginfo/frame';

/**
 * A stack frame as the error manager uses it: debuginfo's frame plus the raw, not C++-demangled
 * name. Valgrind matches and generates suppressions with the mangled name (`_Znwm`) while it
 * prints the demangled one (`operator new(unsigned long)`); when `mangled` is absent `fn` is
 * used for both, which is exact for C.
 */
export interface ErrorFrame extends StackFrame {
  mangled?: string;
}

/** XML `<kind>` names. The first 17 are what Valgrind 3.19 emits; the rest come from newer
 * Valgrinds (protocol 5/6) and are only ever read, never produced by unigrind's memcheck. */
export type ErrorKind =
  | 'InvalidRead'
  | 'InvalidWrite'
  | 'UninitCondition'
  | 'UninitValue'
  | 'SyscallParam'
  | 'ClientCheck'
  | 'InvalidFree'
  | 'MismatchedFree'
  | 'Overlap'
  | 'InvalidJump'
  | 'InvalidMemPool'
  | 'CoreMemError'
  | 'FishyValue'
  | 'Leak_DefinitelyLost'
  | 'Leak_IndirectlyLost'
  | 'Leak_PossiblyLost'
  | 'Leak_StillReachable'
  | 'ReallocSizeZero'
  | 'InvalidSizeAndAlignment'
  | 'InvalidAlignment'
  | 'InvalidSize'
  | 'MismatchedAllocateDeallocateSize'
  | 'MismatchedAllocateDeallocateAlignment'
  | 'FdBadClose'
  | 'FdNotClosed'
  | 'FdBadUse';

/** All known kinds, for validation when reading XML. */
export const ERROR_KINDS: readonly ErrorKind[] = [
  'InvalidRead', 'InvalidWrite', 'UninitCondition', 'UninitValue', 'SyscallParam', 'ClientCheck',
  'InvalidFree', 'MismatchedFree', 'Overlap', 'InvalidJump', 'InvalidMemPool', 'CoreMemError',
  'FishyValue', 'Leak_DefinitelyLost', 'Leak_IndirectlyLost', 'Leak_PossiblyLost',
  'Leak_StillReachable', 'ReallocSizeZero', 'InvalidSizeAndAlignment', 'InvalidAlignment',
  'InvalidSize', 'MismatchedAllocateDeallocateSize', 'MismatchedAllocateDeallocateAlignment',
  'FdBadClose', 'FdNotClosed', 'FdBadUse',
];

/** Leak states in Valgrind's own order (Reachable < Possible < Indirect < Definite), which is
 * also the tie-break order of loss records of equal size. */
export type LeakState = 'reachable' | 'possible' | 'indirect' | 'definite';
export const LEAK_STATES: readonly LeakState[] = ['reachable', 'possible', 'indirect', 'definite'];

/** What an auxiliary line is about; lets the debug adapter and language server label stacks. */
export type AuxRole =
  | 'address'      // "Address 0x… is …" and its continuation lines
  | 'freed'        // the stack of a free'd block ("… free'd" is the address line; its stack)
  | 'allocated'    // "Block was alloc'd at"
  | 'origin'       // "Uninitialised value was created by …"
  | 'other';

/**
 * One auxiliary line (XML `<auxwhat>`, or `<xauxwhat>` when `source` is set) optionally followed
 * by its own stack. Printed in text mode with one leading space.
 */
export interface AuxItem {
  text: string;
  stack?: ErrorFrame[];
  /** Present for `<xauxwhat>` lines (variable descriptions): `<file>`, `<line>`, `<dir>`. */
  source?: { file?: string; line?: number; dir?: string };
  role?: AuxRole;
}

/** Facts of a syscall-parameter error (Memcheck's RegParam / MemParam). */
export interface SyscallParamInfo {
  /** The parameter name, also the suppression's extra line: `write(buf)`. */
  name: string;
  /** `register`: "contains uninitialised byte(s)"; `memory`: "points to … byte(s)". */
  where: 'register' | 'memory';
  /** For `memory`: unaddressable (true) or uninitialised (false). */
  unaddressable?: boolean;
}

/** Facts of a leak loss record (the `<xwhat>` extras and the text's numbers). */
export interface LeakInfo {
  state: LeakState;
  /** Direct bytes of the blocks in this record. */
  bytes: number;
  /** Bytes of blocks reachable only from these (definite records only). */
  indirectBytes: number;
  blocks: number;
  recordNo: number;
  totalRecords: number;
  /** In a delta leak search (VALGRIND_DO_ADDED_LEAK_CHECK, …_CHANGED_…): the same record's
   * figures in the previous search (zeros for a new record); the text then shows "(+N)"/"(-N)". */
  old?: LeakFigures;
}

/** Bytes, indirect bytes and blocks of a loss record. */
export interface LeakFigures {
  bytes: number;
  indirectBytes: number;
  blocks: number;
}

/** The record of one error occurrence. */
export interface ErrorRecord {
  kind: ErrorKind;
  /** Primary line (`<what>`; for leaks the loss-record text of `<xwhat><text>`). */
  what: string;
  /** Innermost frame first. The producer's full stack (up to --num-callers), including frames
   * below `main`; writers cut it at `main` unless --show-below-main=yes, as Valgrind does. */
  stack: ErrorFrame[];
  /** Auxiliary lines with their stacks, in print order. */
  aux: AuxItem[];
  /** Valgrind thread id (1 = main thread). */
  tid: number;
  threadName?: string;
  /** The faulting or described address, when the error has one (informational). */
  address?: number;
  /** Access or value size: InvalidRead/InvalidWrite (`Addr<N>`), UninitValue (`Value<N>`). */
  size?: number;
  syscallParam?: SyscallParamInfo;
  /** ClientCheck: unaddressable (true) or uninitialised (false). */
  unaddressable?: boolean;
  /** CoreMemError: the description string (also the suppression's extra line). */
  coreMem?: string;
  fishy?: { fn: string; arg: string; value: number };
  /** Overlap: the function and its arguments; `len` absent for the two-argument form. */
  overlap?: { fn: string; dst: number; src: number; len?: number };
  leak?: LeakInfo;
  /** Protocol 5 fd errors: `<fd>` and `<path>`. */
  fd?: { fd: number; path?: string };
}

/** Total leaked bytes of a loss record (`<leakedbytes>`): direct plus indirect. */
export function leakedBytes(leak: LeakInfo): number {
  return leak.bytes + leak.indirectBytes;
}

/** True for the four leak kinds. */
export function isLeakKind(kind: ErrorKind): boolean {
  return kind.startsWith('Leak_');
}

/** XML kind of a leak state. */
export function leakKindOf(state: LeakState): ErrorKind {
  switch (state) {
    case 'definite': return 'Leak_DefinitelyLost';
    case 'indirect': return 'Leak_IndirectlyLost';
    case 'possible': return 'Leak_PossiblyLost';
    case 'reachable': return 'Leak_StillReachable';
  }
}

/** Leak state of a leak kind, or undefined for other kinds. */
export function leakStateOf(kind: ErrorKind): LeakState | undefined {
  switch (kind) {
    case 'Leak_DefinitelyLost': return 'definite';
    case 'Leak_IndirectlyLost': return 'indirect';
    case 'Leak_PossiblyLost': return 'possible';
    case 'Leak_StillReachable': return 'reachable';
    default: return undefined;
  }
}
