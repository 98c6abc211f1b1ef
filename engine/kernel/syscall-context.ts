/** One system call in progress: its raw arguments, typed accessors, and the process and thread it belongs to. */
import type { GuestProcess } from '../process/guest-process';
import type { Thread } from '../process/thread';
import type { SyscallDecl } from './syscall-decl';

export class SyscallContext {
  constructor(readonly proc: GuestProcess, readonly thread: Thread, readonly decl: SyscallDecl, readonly raw: bigint[]) {}

  /** Argument i as a signed 32-bit int (fds, flags, AT_FDCWD arrive in 64-bit registers). */
  int(i: number): number {
    return Number(BigInt.asIntN(32, this.raw[i]));
  }

  /** Argument i as an unsigned 32-bit int. */
  uint(i: number): number {
    return Number(BigInt.asUintN(32, this.raw[i]));
  }

  /** Argument i as a signed 64-bit value (Numbers are exact below 2^53, true of every size and offset used). */
  long(i: number): number {
    return Number(BigInt.asIntN(64, this.raw[i]));
  }

  /** Argument i as an address or unsigned size. */
  ptr(i: number): number {
    return Number(this.raw[i]);
  }

  /** The "name(arg)" Valgrind uses in syscall error messages. */
  what(i: number): string {
    return `${this.decl.name}(${this.decl.args[i]?.name ?? `arg${i + 1}`})`;
  }
}
