/** The host C library through koffi: raw system calls and native memory for guest pages. */
import koffi from 'koffi';

const libc = koffi.load('libc.so.6');

// syscall(2) is variadic in C, but on x86-64 a call with six integer arguments has the same
// ABI either way; declaring it fixed avoids koffi's slower variadic path on every host call.
const rawSyscall = libc.func('long syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6)');
const rawMmap = libc.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, long off)');
const rawMunmap = libc.func('int munmap(uint64_t addr, size_t len)');

export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 1;
export const MAP_PRIVATE = 2;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_NORESERVE = 0x4000;

type Arg = number | bigint;

/** Runs a host system call; returns the kernel's result (negative errno on failure), as Linux does. */
export function hostSyscall(nr: number, a1: Arg = 0, a2: Arg = 0, a3: Arg = 0, a4: Arg = 0, a5: Arg = 0, a6: Arg = 0): number {
  const r = rawSyscall(nr, a1, a2, a3, a4, a5, a6) as number | bigint;
  const n = Number(r);
  return n === -1 ? -koffi.errno() : n;
}

/** A block of host memory, seen from JS without copies. */
export interface HostChunk {
  /** Host virtual address of the first byte. */
  addr: number;
  size: number;
  /** The bytes, shared with the native memory (and with Unicorn when mapped into the guest). */
  bytes: Uint8Array;
}

/** Maps host memory: anonymous zeroed pages, or a private/shared mapping of a host fd. */
export function hostMmap(size: number, fd = -1, offset = 0, shared = false): HostChunk | number {
  const flags = (fd < 0 ? MAP_ANONYMOUS | MAP_PRIVATE : shared ? MAP_SHARED : MAP_PRIVATE) | MAP_NORESERVE;
  const p = rawMmap(null, size, PROT_READ | PROT_WRITE, flags, fd, offset);
  const addr = Number(koffi.address(p));
  if (addr === -1 || addr >= 2 ** 64 - 4096) return -koffi.errno();
  return { addr, size, bytes: new Uint8Array(koffi.view(p, size)) };
}

/** Releases host pages (page-aligned range inside a chunk). */
export function hostMunmap(addr: number, size: number): void {
  rawMunmap(addr, size);
}

