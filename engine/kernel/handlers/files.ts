/** File-descriptor syscalls whose arguments need more than pointer translation: fd-creating calls, fd arrays, iovecs, /proc/self. */
import { hostSyscall } from '../../host/libc';
import { E } from '../errno';
import type { SyscallContext } from '../syscall-context';
import type { Blocked } from '../syscall-decl';
import { procSelfFile } from './proc-self';
import { hostFdPath } from './memory';
import { releaseVirtual } from './devices';

const O_CLOEXEC = 0x80000;
/** creat(path, mode) is open(path, O_CREAT | O_WRONLY | O_TRUNC, mode). */
const CREAT_FLAGS = 0o1101;
const AT_FDCWD = -100;
const F_DUPFD = 0;
const F_GETFD = 1;
const F_SETFD = 2;
const F_GETLK = 5;
const F_SETLK = 6;
const F_SETLKW = 7;
const F_DUPFD_CLOEXEC = 1030;
const FD_CLOEXEC = 1;
/** poll(2) events that make an fd ready for select's read and write sets. */
const SELECT_EVENTS = [1 /* POLLIN */, 4 /* POLLOUT */];

/** Guest fd → host fd, or undefined when not open. */
function hostFd(ctx: SyscallContext, fd: number): number | undefined {
  const e = ctx.proc.fds.get(fd);
  return e && !e.virt ? e.host : undefined;
}

/**
 * open(path, flags, mode) / openat(dirfd, path, flags, mode) / creat(path, mode): engine files
 * first (/proc/self, devices), else the host.
 */
export function sysOpenat(ctx: SyscallContext): number {
  const at = ctx.decl.name === 'openat';
  const pathArg = at ? 1 : 0;
  const path = ctx.proc.mem.readCString(ctx.ptr(pathArg));
  const flags = ctx.decl.name === 'creat' ? CREAT_FLAGS : ctx.int(pathArg + 1);
  ctx.proc.observer.preRead(ctx.decl.name, ctx.what(pathArg), ctx.ptr(pathArg), Buffer.byteLength(path) + 1, true);
  const dev = ctx.proc.devices?.open(path, flags);
  if (dev !== undefined) {
    if (typeof dev === 'number') return dev;
    return ctx.proc.fds.add({ host: -1, cloexec: (flags & O_CLOEXEC) !== 0, virt: dev });
  }
  const special = procSelfFile(ctx.proc, path);
  if (special !== undefined) {
    if (typeof special === 'number') return special;
    return ctx.proc.fds.add({ host: special.hostFd, cloexec: (flags & O_CLOEXEC) !== 0 });
  }
  const r = ctx.proc.kernel.passthrough(ctx);
  if (r >= 0) ctx.proc.fds.get(r)!.cloexec = (flags & O_CLOEXEC) !== 0;
  return r;
}

/** close(fd). */
export function sysClose(ctx: SyscallContext): number {
  const e = ctx.proc.fds.remove(ctx.int(0));
  if (!e) return -E.EBADF;
  if (e.virt) {
    releaseVirtual(ctx.proc, e.virt);
    return 0;
  }
  return hostSyscall(3, e.host);
}

/** dup(fd), dup2(old, new), dup3(old, new, flags): a new host fd behind a new guest fd. */
export function sysDup(ctx: SyscallContext): number {
  const old = ctx.int(0);
  const e = ctx.proc.fds.get(old);
  if (!e) return -E.EBADF;
  const name = ctx.decl.name;
  const cloexec = name === 'dup3' && (ctx.int(2) & O_CLOEXEC) !== 0;
  if (name !== 'dup') {
    const target = ctx.int(1);
    if (target < 0) return -E.EBADF;
    if (target === old) return name === 'dup3' ? -E.EINVAL : target;
    const host = e.virt ? -1 : hostSyscall(32, e.host);
    if (host < -1) return host;
    const prev = ctx.proc.fds.set(target, { host, cloexec, virt: e.virt });
    if (prev && !prev.virt) hostSyscall(3, prev.host);
    else if (prev?.virt) releaseVirtual(ctx.proc, prev.virt);
    return target;
  }
  const host = e.virt ? -1 : hostSyscall(32, e.host);
  if (host < -1) return host;
  return ctx.proc.fds.add({ host, cloexec: false, virt: e.virt });
}

/** fcntl(fd, cmd, arg). */
export function sysFcntl(ctx: SyscallContext): number {
  const fd = ctx.int(0);
  const cmd = ctx.int(1);
  const e = ctx.proc.fds.get(fd);
  if (!e) return -E.EBADF;
  if (cmd === F_DUPFD || cmd === F_DUPFD_CLOEXEC) {
    const host = e.virt ? -1 : hostSyscall(32, e.host);
    if (host < -1) return host;
    return ctx.proc.fds.add({ host, cloexec: cmd === F_DUPFD_CLOEXEC, virt: e.virt }, ctx.int(2));
  }
  if (cmd === F_GETFD) return e.cloexec ? FD_CLOEXEC : 0;
  if (cmd === F_SETFD) {
    e.cloexec = (ctx.int(2) & FD_CLOEXEC) !== 0;
    return e.virt ? 0 : hostSyscall(72, e.host, F_SETFD, ctx.int(2));
  }
  if (e.virt) return 0;
  if (cmd === F_GETLK || cmd === F_SETLK || cmd === F_SETLKW) {
    const p = ctx.ptr(2);
    const host = ctx.proc.mem.hostAddress(p, 32);
    if (host === undefined) return -E.EFAULT;
    const r = hostSyscall(72, e.host, cmd, host);
    if (r >= 0 && cmd === F_GETLK) ctx.proc.observer.postWrite(p, 32);
    return r;
  }
  return hostSyscall(72, e.host, cmd, ctx.raw[2]);
}

/** pipe(fds) / pipe2(fds, flags) / socketpair(d, t, p, fds): two new host fds become guest fds. */
export function sysFdPair(ctx: SyscallContext): number {
  const name = ctx.decl.name;
  const outArg = name === 'socketpair' ? 3 : 0;
  const scratch = ctx.proc.kernel.scratch(8);
  const r = name === 'socketpair'
    ? hostSyscall(53, ctx.int(0), ctx.int(1), ctx.int(2), scratch.addr)
    : hostSyscall(293, scratch.addr, name === 'pipe2' ? ctx.int(1) : 0);
  if (r < 0) return r;
  const dv = new DataView(scratch.bytes.buffer, scratch.bytes.byteOffset);
  const h0 = dv.getInt32(0, true);
  const h1 = dv.getInt32(4, true);
  const cloexec = name === 'pipe2' ? (ctx.int(1) & O_CLOEXEC) !== 0 : name === 'socketpair' && (ctx.int(1) & O_CLOEXEC) !== 0;
  const g0 = ctx.proc.fds.add({ host: h0, cloexec });
  const g1 = ctx.proc.fds.add({ host: h1, cloexec });
  const out = new Uint8Array(8);
  const odv = new DataView(out.buffer);
  odv.setInt32(0, g0, true);
  odv.setInt32(4, g1, true);
  ctx.proc.mem.write(ctx.ptr(outArg), out);
  ctx.proc.observer.postWrite(ctx.ptr(outArg), 8);
  return 0;
}

/** readlink(path, buf, size) / readlinkat(dirfd, path, buf, size): /proc/self/exe names the guest program. */
export function sysReadlink(ctx: SyscallContext): number {
  const at = ctx.decl.name === 'readlinkat';
  const p = at ? 1 : 0;
  const path = ctx.proc.mem.readCString(ctx.ptr(p));
  const self = /^\/proc\/(self|\d+)\/(exe|fd\/(\d+))$/.exec(path);
  if (self && (self[1] === 'self' || Number(self[1]) === ctx.proc.pid) && (!at || path.startsWith('/') || ctx.int(0) === AT_FDCWD)) {
    let target: string;
    if (self[2] === 'exe') target = ctx.proc.exePath;
    else {
      const e = ctx.proc.fds.get(Number(self[3]));
      if (!e) return -E.ENOENT;
      target = e.virt ? e.virt.name : hostFdPath(e.host);
    }
    const b = Buffer.from(target, 'utf8').subarray(0, ctx.ptr(p + 2));
    ctx.proc.mem.write(ctx.ptr(p + 1), b);
    ctx.proc.observer.postWrite(ctx.ptr(p + 1), b.length);
    return b.length;
  }
  return ctx.proc.kernel.passthrough(ctx);
}

/** readv/writev/preadv/pwritev (fd, iov, iovcnt, …): each iovec entry translated to host memory. */
export function sysIovec(ctx: SyscallContext): number | Blocked {
  const { mem, observer } = ctx.proc;
  const fd = hostFd(ctx, ctx.int(0));
  if (fd === undefined) return -E.EBADF;
  const n = ctx.int(2);
  if (n < 0 || n > 1024) return -E.EINVAL;
  const writing = ctx.decl.name.includes('write');
  const iov = ctx.ptr(1);
  const scratch = ctx.proc.kernel.scratch(n * 16);
  const sdv = new DataView(scratch.bytes.buffer, scratch.bytes.byteOffset);
  const entries: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) {
    const base = mem.readPtr(iov + i * 16);
    const len = mem.readPtr(iov + i * 16 + 8);
    const host = len ? mem.hostAddress(base, len) : 0;
    if (host === undefined) return -E.EFAULT;
    if (writing && len) observer.preRead(ctx.decl.name, `${ctx.decl.name}(vector[${i}])`, base, len, false);
    entries.push([base, len]);
    sdv.setBigUint64(i * 16, BigInt(host), true);
    sdv.setBigUint64(i * 16 + 8, BigInt(len), true);
  }
  const r = hostSyscall(ctx.decl.nr, fd, scratch.addr, n, ctx.raw[3], ctx.raw[4]);
  if (r > 0 && !writing) {
    let left = r;
    for (const [base, len] of entries) {
      if (left <= 0) break;
      observer.postWrite(base, Math.min(len, left));
      left -= len;
    }
  }
  return r;
}

/** poll(fds, nfds, timeout) / ppoll(fds, nfds, tsp, sigmask, size): pollfd.fd translated both ways. */
export function sysPoll(ctx: SyscallContext): number | Blocked {
  const { mem, fds, observer, kernel } = ctx.proc;
  const base = ctx.ptr(0);
  const n = ctx.ptr(1);
  if (n > 4096) return -E.EINVAL;
  observer.preRead(ctx.decl.name, `${ctx.decl.name}(ufds)`, base, n * 8, false);
  const guest = n ? mem.read(base, n * 8) : new Uint8Array(0);
  const gdv = new DataView(guest.buffer);
  const virt: number[] = [];
  const scratch = kernel.scratch(n * 8 + 32);
  const sdv = new DataView(scratch.bytes.buffer, scratch.bytes.byteOffset);
  for (let i = 0; i < n; i++) {
    const gfd = gdv.getInt32(i * 8, true);
    const e = gfd >= 0 ? fds.get(gfd) : undefined;
    if (e?.virt) virt.push(i);
    sdv.setInt32(i * 8, e && !e.virt ? e.host : -1, true);
    sdv.setInt16(i * 8 + 4, gdv.getInt16(i * 8 + 4, true), true);
    sdv.setInt16(i * 8 + 6, 0, true);
  }
  let timeoutMs = -1;
  if (ctx.decl.name === 'poll') timeoutMs = ctx.int(2);
  else if (ctx.ptr(2)) {
    const ts = new DataView(mem.read(ctx.ptr(2), 16).buffer);
    timeoutMs = Number(ts.getBigInt64(0, true)) * 1000 + Math.ceil(Number(ts.getBigInt64(8, true)) / 1e6);
  }
  const deadline = timeoutMs >= 0 ? Date.now() + timeoutMs : undefined;
  const attempt = (wait: number): number | undefined => {
    let ready = 0;
    for (const i of virt) {
      const e = fds.get(gdv.getInt32(i * 8, true))!;
      const rev = e.virt!.poll ? e.virt!.poll(gdv.getInt16(i * 8 + 4, true)) : 0;
      sdv.setInt16(i * 8 + 6, rev, true);
      if (rev) ready++;
    }
    const r = hostSyscall(7, scratch.addr, n, ready ? 0 : wait);
    if (r < 0) return r;
    const total = virt.length ? countReady(sdv, n) : r;
    if (total === 0 && wait !== -1 && (deadline === undefined || Date.now() < deadline)) return undefined;
    for (let i = 0; i < n; i++) gdv.setInt16(i * 8 + 6, sdv.getInt16(i * 8 + 6, true), true);
    if (n) {
      mem.write(base, guest);
      for (let i = 0; i < n; i++) observer.postWrite(base + i * 8 + 6, 2);
    }
    return total;
  };
  const others = ctx.proc.threads.filter((t) => t.state !== 'dead').length > 1;
  if (!others || timeoutMs === 0) {
    const r = attempt(timeoutMs);
    return r ?? 0;
  }
  const first = attempt(0);
  if (first !== undefined && (first !== 0 || timeoutMs === 0)) return first;
  const waitFds: Array<{ host: number; events: number }> = [];
  for (let i = 0; i < n; i++) {
    const h = sdv.getInt32(i * 8, true);
    if (h >= 0) waitFds.push({ host: h, events: sdv.getInt16(i * 8 + 4, true) });
  }
  return {
    waitFds,
    deadline,
    resume: () => {
      // Rebuild: the scratch buffer is shared with other calls.
      for (let i = 0; i < n; i++) {
        const gfd = gdv.getInt32(i * 8, true);
        const e = gfd >= 0 ? fds.get(gfd) : undefined;
        sdv.setInt32(i * 8, e && !e.virt ? e.host : -1, true);
        sdv.setInt16(i * 8 + 4, gdv.getInt16(i * 8 + 4, true), true);
        sdv.setInt16(i * 8 + 6, 0, true);
      }
      const r = attempt(0);
      if (r !== undefined && r !== 0) return r;
      if (deadline !== undefined && Date.now() >= deadline) return 0;
      return undefined;
    },
  };
}

function countReady(dv: DataView, n: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (dv.getInt16(i * 8 + 6, true) !== 0) k++;
  return k;
}

/**
 * select/pselect6(nfds, readfds, writefds, exceptfds, timeout): fd_sets rebuilt over host fds;
 * engine files (the xenstore connection) answer through their poll(), and when one is ready the
 * host select only samples the host fds.
 */
export function sysSelect(ctx: SyscallContext): number {
  const { mem, fds, observer, kernel } = ctx.proc;
  const nfds = ctx.int(0);
  if (nfds < 0 || nfds > 1024) return -E.EINVAL;
  const setBytes = Math.ceil(nfds / 64) * 8;
  const scratch = kernel.scratch(3 * 128 + 32);
  scratch.bytes.fill(0, 0, 3 * 128 + 32);
  const map = new Map<number, number>();
  const virtReady: Array<[number, number]> = [];
  let hostMax = -1;
  const sets = [1, 2, 3].map((arg, k) => {
    const p = ctx.ptr(arg);
    if (!p) return undefined;
    observer.preRead(ctx.decl.name, `${ctx.decl.name}(${['readfds', 'writefds', 'exceptfds'][k]})`, p, setBytes, false);
    const bits = mem.read(p, setBytes);
    for (let fd = 0; fd < nfds; fd++) {
      if (!(bits[fd >> 3] & (1 << (fd & 7)))) continue;
      const e = fds.get(fd);
      if (!e) return -E.EBADF;
      if (e.virt) {
        if (k < 2 && e.virt.poll?.(SELECT_EVENTS[k])) virtReady.push([k, fd]);
        continue;
      }
      scratch.bytes[k * 128 + (e.host >> 3)] |= 1 << (e.host & 7);
      map.set(e.host, fd);
      hostMax = Math.max(hostMax, e.host);
    }
    return p;
  });
  if (sets.some((s) => s === -E.EBADF)) return -E.EBADF;
  let tsHost = 0;
  if (virtReady.length) {
    // Something is ready already: the host only says which of its fds are too.
    scratch.bytes.fill(0, 3 * 128, 3 * 128 + 16);
    tsHost = scratch.addr + 3 * 128;
  } else if (ctx.ptr(4)) {
    scratch.bytes.set(mem.read(ctx.ptr(4), 16), 3 * 128);
    tsHost = scratch.addr + 3 * 128;
  }
  const r = hostSyscall(ctx.decl.nr, hostMax + 1, sets[0] ? scratch.addr : 0, sets[1] ? scratch.addr + 128 : 0,
    sets[2] ? scratch.addr + 256 : 0, tsHost, ctx.decl.name === 'pselect6' ? 0 : 0);
  if (r < 0) return r;
  sets.forEach((p, k) => {
    if (typeof p !== 'number' || !p) return;
    const out = new Uint8Array(setBytes);
    for (const [h, g] of map) if (scratch.bytes[k * 128 + (h >> 3)] & (1 << (h & 7))) out[g >> 3] |= 1 << (g & 7);
    for (const [vk, g] of virtReady) if (vk === k) out[g >> 3] |= 1 << (g & 7);
    mem.write(p, out);
    observer.postWrite(p, setBytes);
  });
  if (ctx.ptr(4) && ctx.decl.name === 'select' && !virtReady.length) mem.write(ctx.ptr(4), scratch.bytes.subarray(3 * 128, 3 * 128 + 16));
  return r + virtReady.length;
}
