/**
 * How a system call is declared: its arguments and their roles, once. Pointer translation for
 * host passthrough, memcheck's PRE/POST checks and --trace-syscalls printing are all derived from
 * these declarations (as Valgrind's PRE()/POST() wrappers say "buf is read for count bytes").
 */
import type { SyscallContext } from './syscall-context';

/** A byte count: fixed, the value of argument i, or the int that argument i points to (socklen_t *). */
export type Size = number | { arg: number; scale?: number } | { derefArg: number } | { times: [number, number] };
/** How many bytes the kernel wrote, known after the call. */
export type Post = 'result' | Size;

export type ScalarKind = 'int' | 'uint' | 'long' | 'ulong' | 'hex' | 'oct' | 'ptr' | 'fd' | 'dirfd';

/** One argument of a system call. */
export type ArgDecl =
  | { name: string; kind: ScalarKind }
  | { name: string; kind: 'path' | 'cstr' }
  | { name: string; kind: 'in'; size: Size }
  | { name: string; kind: 'sockaddr'; size: Size }
  | { name: string; kind: 'out'; size: Size; post?: Post }
  | { name: string; kind: 'inout'; size: Size; post?: Post };

/** A thread that must wait: the scheduler calls resume() until it returns the syscall's result. */
export interface Blocked {
  resume(): number | undefined;
  /** Host fds (and events) worth a host poll() while every thread waits. */
  waitFds?: Array<{ host: number; events: number }>;
  /** Absolute time (ms, Date.now()) after which resume() must be tried again. */
  deadline?: number;
}

/** The engine's own implementation; returns the result (negative errno), or Blocked. */
export type Emulation = (ctx: SyscallContext) => number | Blocked;

export interface SyscallDecl {
  nr: number;
  name: string;
  args: ArgDecl[];
  /** Engine-owned state (memory map, signals, threads, exit, fds): implemented here, not by the host. */
  emulate?: Emulation;
  /** The host result is a new host fd that becomes a guest fd. */
  returnsFd?: boolean;
  /** The call may block until argument fd (index) is ready for these poll events. */
  blocksOn?: { fdArg: number; events: number };
  /** Known and deliberately refused with -ENOSYS without a warning (glibc falls back, e.g. clone3). */
  refuse?: number;
}

/** Argument builders, so that the table reads like Valgrind's PRE_REG_READn lines. */
export const a = {
  int: (name: string): ArgDecl => ({ name, kind: 'int' }),
  uint: (name: string): ArgDecl => ({ name, kind: 'uint' }),
  long: (name: string): ArgDecl => ({ name, kind: 'long' }),
  ulong: (name: string): ArgDecl => ({ name, kind: 'ulong' }),
  hex: (name: string): ArgDecl => ({ name, kind: 'hex' }),
  oct: (name: string): ArgDecl => ({ name, kind: 'oct' }),
  ptr: (name: string): ArgDecl => ({ name, kind: 'ptr' }),
  fd: (name = 'fd'): ArgDecl => ({ name, kind: 'fd' }),
  dirfd: (name = 'dirfd'): ArgDecl => ({ name, kind: 'dirfd' }),
  path: (name = 'pathname'): ArgDecl => ({ name, kind: 'path' }),
  cstr: (name: string): ArgDecl => ({ name, kind: 'cstr' }),
  in: (name: string, size: Size): ArgDecl => ({ name, kind: 'in', size }),
  /** A struct sockaddr the kernel reads: checked field by field for its family. */
  sockaddr: (name: string, size: Size): ArgDecl => ({ name, kind: 'sockaddr', size }),
  out: (name: string, size: Size, post?: Post): ArgDecl => ({ name, kind: 'out', size, post }),
  inout: (name: string, size: Size, post?: Post): ArgDecl => ({ name, kind: 'inout', size, post }),
};

/** Size helpers: the value of argument i (times scale); the int behind pointer argument i; argument i times argument j. */
export const arg = (i: number, scale = 1): Size => ({ arg: i, scale });
export const deref = (i: number): Size => ({ derefArg: i });
export const times = (i: number, j: number): Size => ({ times: [i, j] });
