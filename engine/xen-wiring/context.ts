/**
 * The two small adapters engine/xen needs from a guest process: its memory (guest virtual
 * addresses of the calling process) and the tool's parameter checks. Neither knows memcheck:
 * checks go through the process's SyscallObserver, so whichever tool is attached sees Xen
 * hypercall and ioctl arguments exactly as it sees syscall arguments.
 */
import { GuestFault } from '../memory/guest-memory';
import type { GuestProcess } from '../process/guest-process';
import type { SyscallObserver } from '../kernel/syscall-observer';
import type { GuestMemory, ParamChecker } from '../xen';

const PROT_WRITE = 2;

/** engine/xen's GuestMemory over the process's address space. */
export function xenGuestMemory(proc: GuestProcess): GuestMemory {
  const mem = proc.mem;
  return {
    read(addr: number, len: number): Uint8Array | undefined {
      try {
        return mem.read(addr, len);
      } catch (e) {
        if (e instanceof GuestFault) return undefined;
        throw e;
      }
    },
    // copy_to_user fails on pages the process cannot write, so the hypervisor sees -EFAULT there too.
    write(addr: number, data: Uint8Array): boolean {
      let a = addr;
      const end = addr + data.length;
      while (a < end) {
        const r = mem.find(a);
        if (!r || !(r.perms & PROT_WRITE)) return false;
        a = r.end;
      }
      mem.write(addr, data);
      return true;
    },
    isMapped(addr: number, len: number): boolean {
      return mem.isMapped(addr, len);
    },
  };
}

/**
 * A tool's observer may also check that memory the callee will write is addressable
 * (Valgrind's PRE_MEM_WRITE). SyscallObserver does not declare it yet; a tool that implements
 * it gets the Xen pre-write checks.
 */
type ObserverWithPreWrite = SyscallObserver & { preWrite?(sys: string, what: string, addr: number, len: number): void };

/**
 * engine/xen's ParamChecker as the process's observer. The observer is looked up at each call,
 * not captured, because a tool may attach after the devices were created. Every Xen check is
 * reported as a parameter of `ioctl`, the syscall that carries it; `what` is the full name
 * ("ioctl(privcmd hypercall sysctl physinfo u.physinfo)").
 */
export function observerChecker(proc: GuestProcess): ParamChecker {
  return {
    preRead(addr: number, len: number, what: string): void {
      proc.observer.preRead('ioctl', what, addr, len, false);
    },
    preWrite(addr: number, len: number, what: string): void {
      (proc.observer as ObserverWithPreWrite).preWrite?.('ioctl', what, addr, len);
    },
    postWrite(addr: number, len: number): void {
      proc.observer.postWrite(addr, len);
    },
  };
}
