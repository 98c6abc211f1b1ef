/**
 * Error families offered as exception filters (the checkboxes of VS Code's BREAKPOINTS view), and
 * which family an error record belongs to. A stop on an error needs both: its family's filter
 * enabled and its kind selected by the launch attribute stopOnError.
 */
import type { ErrorKind, ErrorRecord } from '../engine/errors/error-record';

/** One filter: its id, what VS Code shows, and the kinds it covers. */
export interface ErrorFamily {
  readonly filter: string;
  readonly label: string;
  readonly description: string;
  readonly kinds: readonly ErrorKind[];
}

export const LEAK_FILTER = 'leaks';

export const ERROR_FAMILIES: readonly ErrorFamily[] = [
  {
    filter: 'invalid-access', label: 'Invalid memory access',
    description: 'Invalid read, write or jump: an access outside any allocated block (InvalidRead, InvalidWrite, InvalidJump)',
    kinds: ['InvalidRead', 'InvalidWrite', 'InvalidJump'],
  },
  {
    filter: 'uninitialised', label: 'Use of uninitialised value',
    description: 'A conditional jump, an address or a value that depends on uninitialised memory (UninitCondition, UninitValue)',
    kinds: ['UninitCondition', 'UninitValue'],
  },
  {
    filter: 'syscall-param', label: 'Syscall or hypercall parameter',
    description: 'A system call, ioctl or Xen hypercall argument that is uninitialised or points to unaddressable memory (SyscallParam)',
    kinds: ['SyscallParam'],
  },
  {
    filter: 'invalid-free', label: 'Invalid or mismatched free',
    description: 'free/delete of an address that is not a live block, or with the wrong deallocator (InvalidFree, MismatchedFree, …)',
    kinds: ['InvalidFree', 'MismatchedFree', 'InvalidMemPool', 'ReallocSizeZero', 'MismatchedAllocateDeallocateSize',
      'MismatchedAllocateDeallocateAlignment', 'InvalidSizeAndAlignment', 'InvalidAlignment', 'InvalidSize'],
  },
  {
    filter: 'overlap', label: 'Overlapping memcpy/strcpy',
    description: 'Source and destination overlap in memcpy, strcpy and relatives (Overlap)',
    kinds: ['Overlap'],
  },
  {
    filter: 'other', label: 'Other memcheck errors',
    description: 'Client checks, fishy (negative) sizes, core errors and file-descriptor errors',
    kinds: ['ClientCheck', 'FishyValue', 'CoreMemError', 'FdBadClose', 'FdNotClosed', 'FdBadUse'],
  },
  {
    filter: LEAK_FILTER, label: 'Leaks at exit',
    description: 'One stop after the leak check at exit, with every loss record',
    kinds: ['Leak_DefinitelyLost', 'Leak_IndirectlyLost', 'Leak_PossiblyLost', 'Leak_StillReachable'],
  },
];

/** The family of an error record. A client check is an access or a definedness check, by its kind. */
export function familyOf(rec: ErrorRecord): string {
  if (rec.kind === 'ClientCheck') return rec.unaddressable ? 'invalid-access' : 'uninitialised';
  return ERROR_FAMILIES.find((f) => f.kinds.includes(rec.kind))?.filter ?? 'other';
}

/** Which errors stop the guest: the enabled filters and the stopOnError selection together. */
export class StopPolicy {
  private enabled = new Set(ERROR_FAMILIES.map((f) => f.filter));

  constructor(private readonly selection: 'all' | 'none' | ReadonlySet<ErrorKind> = 'all') {}

  /** setExceptionBreakpoints: exactly these filters are on. */
  setFilters(filters: readonly string[]): void {
    this.enabled = new Set(filters);
  }

  stopsOn(rec: ErrorRecord): boolean {
    if (this.selection === 'none') return false;
    if (this.selection !== 'all' && !this.selection.has(rec.kind)) return false;
    return this.enabled.has(familyOf(rec));
  }

  /** Whether the leak check at exit gets a stop (some leak kind selected, leaks filter on). */
  get stopsOnLeaks(): boolean {
    if (this.selection === 'none' || !this.enabled.has(LEAK_FILTER)) return false;
    if (this.selection === 'all') return true;
    return [...this.selection].some((k) => k.startsWith('Leak_'));
  }
}
