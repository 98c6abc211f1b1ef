/**
 * Run-level facts the writers print besides errors: fatal signals, client messages, heap usage.
 */
import type { ErrorFrame } from '../errors/error-record';

/** A signal that terminates the client (Valgrind's default action), as reported at the end. */
export interface FatalSignalInfo {
  tid: number;
  threadName?: string;
  signo: number;
  /** "SIGSEGV". */
  signame: string;
  sicode: number;
  /** Decoded fault ("Access not within mapped region") when the kernel sent the signal. */
  event?: string;
  /** Faulting address, when the signal carries one. */
  address?: number;
  /** The "dumping core" suffix of the text line. */
  core?: boolean;
  stack: ErrorFrame[];
  /** For SIGSEGV/MAPERR from the kernel: the main thread's stack size for the overflow hint. */
  mainStackSize?: number;
}

/** VALGRIND_PRINTF / VALGRIND_PRINTF_BACKTRACE output (`<clientmsg>` in XML). */
export interface ClientMessage {
  tid: number;
  threadName?: string;
  text: string;
  stack?: ErrorFrame[];
}

/** HEAP SUMMARY figures. */
export interface HeapSummary {
  inUseBytes: number;
  inUseBlocks: number;
  allocs: number;
  frees: number;
  bytesAllocated: number;
}
