/**
 * Which bytes of a socket address the kernel reads, by family, as memcheck checks them: the
 * family, then only the fields that family uses (a sockaddr_un's path up to its NUL, an
 * inet address's port and address but not sin_zero), because C code fills these structures
 * field by field and leaves the padding uninitialised.
 */
import type { GuestMemory } from '../memory/guest-memory';
import type { SyscallObserver } from './syscall-observer';

const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;

/** Field layouts (name, offset, size) after the 2-byte family, per family. */
const FIELDS: Readonly<Record<number, ReadonlyArray<readonly [string, number, number]>>> = {
  [AF_INET]: [['sin_port', 2, 2], ['sin_addr', 4, 4]],
  [AF_INET6]: [['sin6_port', 2, 2], ['sin6_flowinfo', 4, 4], ['sin6_addr', 8, 16], ['sin6_scope_id', 24, 4]],
};

/** Checks the socket address argument `arg` of `sys` at [addr, addr+len) as the kernel will read it. */
export function preReadSockaddr(obs: SyscallObserver, mem: GuestMemory, sys: string, arg: string, addr: number, len: number): void {
  // Valgrind names these after the socketcall multiplexer, on amd64 too.
  const what = (field: string): string => `socketcall.${sys}(${arg}.${field})`;
  if (len < 2) {
    obs.preRead(sys, `socketcall.${sys}(${arg})`, addr, len, false);
    return;
  }
  obs.preRead(sys, what('sa_family'), addr, 2, false);
  const v = mem.view(addr, 2);
  const family = v ? v[0] | (v[1] << 8) : -1;
  if (family === AF_UNIX) {
    // sun_path is read as a string: up to its NUL, or to the end of the given length.
    const path = mem.view(addr + 2, len - 2);
    if (!path) return obs.preRead(sys, what('sun_path'), addr + 2, len - 2, false);
    const nul = path.indexOf(0);
    obs.preRead(sys, what('sun_path'), addr + 2, nul < 0 ? len - 2 : nul + 1, true);
    return;
  }
  const fields = FIELDS[family];
  if (!fields) {
    obs.preRead(sys, `socketcall.${sys}(${arg})`, addr, len, false);
    return;
  }
  for (const [name, off, size] of fields) if (off + size <= len) obs.preRead(sys, what(name), addr + off, size, false);
}
