/**
 * What a tool learns from system calls, derived from the declarations: memory the kernel reads
 * (PRE: must be addressable and defined) and writes (POST: becomes defined), and mapping changes
 * the kernel makes. Core code knows nothing of memcheck; --tool=none uses the no-op observer.
 */
export interface SyscallObserver {
  /** The kernel will read [addr, addr+len) as argument `what` of syscall `sys` (e.g. "write(buf)"). */
  preRead(sys: string, what: string, addr: number, len: number, isString: boolean): void;
  /** The kernel wrote [addr, addr+len). */
  postWrite(addr: number, len: number): void;
}

export const NO_OBSERVER: SyscallObserver = {
  preRead() {},
  postWrite() {},
};
