/** /proc/self files that must describe the guest, not the Node.js process hosting it: served from memfds. */
import * as fs from 'fs';
import { hostMmap, hostSyscall } from '../../host/libc';
import type { GuestProcess } from '../../process/guest-process';

/** The guest's /proc/self/maps, in the kernel's format. */
export function procMaps(proc: GuestProcess): string {
  const hex = (n: number): string => n.toString(16).padStart(8, '0');
  return proc.mem.list().map((r) => {
    const perms = `${r.perms & 1 ? 'r' : '-'}${r.perms & 2 ? 'w' : '-'}${r.perms & 4 ? 'x' : '-'}${r.shared ? 's' : 'p'}`;
    const isFile = r.name.startsWith('/');
    let dev = '00:00';
    let ino = 0;
    if (isFile) {
      try {
        const st = fs.statSync(r.name);
        dev = `${Math.floor(st.dev / 256).toString(16).padStart(2, '0')}:${(st.dev % 256).toString(16).padStart(2, '0')}`;
        ino = st.ino;
      } catch {
        // Deleted since it was mapped: the kernel still shows the name.
      }
    }
    const head = `${hex(r.start)}-${hex(r.end)} ${perms} ${hex(isFile ? r.fileOffset : 0)} ${dev} ${ino}`;
    return r.name ? `${head.padEnd(73)}${r.name}\n` : `${head}\n`;
  }).join('');
}

/** A host fd whose contents are the given bytes (memfd), positioned at 0. */
export function memfdWith(name: string, data: Uint8Array): number {
  const nameBuf = Buffer.from(name + '\0');
  const fd = hostSyscall(319 /* memfd_create */, bufferAddress(nameBuf), 1 /* MFD_CLOEXEC */);
  if (fd < 0) return fd;
  let off = 0;
  while (off < data.length) off += fs.writeSync(fd, data, off);
  hostSyscall(8 /* lseek */, fd, 0, 0);
  return fd;
}

// A stable host address for a small Buffer: copy it into a one-page host mapping.
let namePage: ReturnType<typeof hostMmap> | undefined;
function bufferAddress(b: Buffer): number {
  if (!namePage || typeof namePage === 'number') namePage = hostMmap(4096);
  if (typeof namePage === 'number') throw new Error('host mmap failed');
  namePage.bytes.set(b.subarray(0, 4095));
  return namePage.addr;
}

/** Opens one of the emulated /proc/self files, or returns undefined to let the host open path. */
export function procSelfFile(proc: GuestProcess, path: string): { hostFd: number } | number | undefined {
  const m = /^\/proc\/(self|thread-self|\d+)\/(maps|auxv|cmdline|comm|exe)$/.exec(path);
  if (!m) return undefined;
  if (m[1] !== 'self' && m[1] !== 'thread-self' && Number(m[1]) !== proc.pid) return undefined;
  let data: Uint8Array;
  switch (m[2]) {
    case 'maps':
      data = Buffer.from(procMaps(proc));
      break;
    case 'auxv': {
      const w = new BigUint64Array(proc.auxv.length * 2);
      proc.auxv.forEach(([k, v], i) => {
        w[2 * i] = BigInt(k);
        w[2 * i + 1] = BigInt(v);
      });
      data = new Uint8Array(w.buffer);
      break;
    }
    case 'cmdline':
      data = Buffer.from(proc.argv.map((a) => a + '\0').join(''));
      break;
    case 'comm':
      data = Buffer.from(proc.exePath.split('/').pop()!.slice(0, 15) + '\n');
      break;
    default: {
      const fd = fs.openSync(proc.exePath, 'r');
      return { hostFd: fd };
    }
  }
  const fd = memfdWith(`proc-self-${m[2]}`, data);
  return fd < 0 ? fd : { hostFd: fd };
}
