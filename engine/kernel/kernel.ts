/**
 * The system call layer: dispatches each guest syscall to its declaration, then either to the
 * engine's own implementation or to the host kernel with guest→host translation of fds and
 * pointers (derived from the declaration), and reports PRE/POST memory facts to the tool.
 */
import { preReadSockaddr } from './sockaddr-check';
import { X86 } from '../cpu/x86-const';
import { HostChunk, hostMmap, hostSyscall } from '../host/libc';
import { GuestFault } from '../memory/guest-memory';
import type { GuestProcess } from '../process/guest-process';
import type { Thread } from '../process/thread';
import { E, ERRNO_NAMES } from './errno';
import { SyscallContext } from './syscall-context';
import { ArgDecl, Blocked, Size, SyscallDecl } from './syscall-decl';
import { SYSCALL_NAMES } from './syscall-names';
import { SYSCALL_TABLE } from './syscall-table';
import { FutexTable } from './futex';

const ARG_REGS = [X86.RDI, X86.RSI, X86.RDX, X86.R10, X86.R8, X86.R9];
const AT_FDCWD = -100;

export class Kernel {
  private readonly decls = new Map<number, SyscallDecl>();
  private readonly warned = new Set<number>();
  private bounce: HostChunk;
  private bounceUsed = 0;
  readonly futex: FutexTable;

  constructor(readonly proc: GuestProcess) {
    for (const d of SYSCALL_TABLE) this.decls.set(d.nr, d);
    const b = hostMmap(1 << 22);
    if (typeof b === 'number') throw new Error('cannot allocate the syscall bounce buffer');
    this.bounce = b;
    this.futex = new FutexTable(proc);
  }

  /** Handles the syscall the current thread just executed; returns rax, or Blocked. */
  dispatch(t: Thread): number | Blocked {
    const uc = this.proc.uc;
    const nr = Number(uc.reg_read(X86.RAX));
    const raw = ARG_REGS.map((r) => uc.reg_read(r));
    const decl = this.decls.get(nr);
    if (!decl) return this.unhandled(nr);
    const ctx = new SyscallContext(this.proc, t, decl, raw);
    let r: number | Blocked;
    try {
      r = decl.refuse !== undefined ? -decl.refuse : decl.emulate ? decl.emulate(ctx) : this.maybeBlocking(ctx);
    } catch (e) {
      if (e instanceof GuestFault) r = -E.EFAULT;
      else throw e;
    }
    if (this.proc.opts.traceSyscalls) this.trace(ctx, r);
    return r;
  }

  private unhandled(nr: number): number {
    if (!this.warned.has(nr)) {
      this.warned.add(nr);
      const log = this.proc.opts.log;
      log.line(`WARNING: unhandled amd64-linux syscall: ${nr}${SYSCALL_NAMES[nr] ? ` (${SYSCALL_NAMES[nr]})` : ''}`);
      log.line('You may be able to write your own handler.');
      log.line('Read the file README_MISSING_SYSCALL_OR_IOCTL.');
      log.line('Nevertheless we consider this a bug.  Please report');
      log.line('it at https://bugs.kde.org/enter_bug.cgi?product=valgrind.');
    }
    return -E.ENOSYS;
  }

  // A call that may block waits in the scheduler while other threads can run, instead of blocking the engine.
  private maybeBlocking(ctx: SyscallContext): number | Blocked {
    const b = ctx.decl.blocksOn;
    if (b && this.proc.fds.get(ctx.int(b.fdArg))?.virt) return this.virtualBlocking(ctx, b.fdArg);
    if (!b || this.proc.threads.filter((t) => t.state !== 'dead').length < 2) return this.passthrough(ctx);
    const e = this.proc.fds.get(ctx.int(b.fdArg));
    if (!e || e.virt || this.hostReady(e.host, b.events)) return this.passthrough(ctx);
    const host = e.host;
    return {
      waitFds: [{ host, events: b.events }],
      resume: () => (this.hostReady(host, b.events) ? this.passthrough(ctx) : undefined),
    };
  }

  /** Evaluates a declared size for this call. */
  size(ctx: SyscallContext, s: Size): number {
    if (typeof s === 'number') return s;
    if ('arg' in s) return ctx.ptr(s.arg) * (s.scale ?? 1);
    if ('times' in s) return ctx.ptr(s.times[0]) * ctx.ptr(s.times[1]);
    const p = ctx.ptr(s.derefArg);
    if (!p) return 0;
    const b = this.proc.mem.read(p, 4);
    return new DataView(b.buffer).getUint32(0, true);
  }

  /** Runs the call on the host with fds and pointers translated as the declaration says. */
  passthrough(ctx: SyscallContext, nrOverride?: number): number {
    const decl = ctx.decl;
    const host: Array<number | bigint> = ctx.raw.map((v) => v);
    const copyBack: Array<{ guest: number; hostOff: number; len: number }> = [];
    const posts: Array<{ guest: number; arg: ArgDecl & { kind: 'out' | 'inout' }; size: number }> = [];
    const mem = this.proc.mem;
    const obs = this.proc.observer;
    this.bounceUsed = 0;
    for (let i = 0; i < decl.args.length; i++) {
      const arg = decl.args[i];
      switch (arg.kind) {
        case 'fd':
        case 'dirfd': {
          const fd = ctx.int(i);
          if (arg.kind === 'dirfd' && fd === AT_FDCWD) break;
          const e = this.proc.fds.get(fd);
          if (!e) return -E.EBADF;
          if (e.virt) return this.virtualCall(ctx, i);
          host[i] = e.host;
          break;
        }
        case 'path':
        case 'cstr': {
          const p = ctx.ptr(i);
          if (!p) break;
          const len = mem.readCStringBytes(p).length + 1;
          obs.preRead(decl.name, ctx.what(i), p, len, true);
          host[i] = this.hostPointer(p, len, true, copyBack, false);
          break;
        }
        case 'in':
        case 'sockaddr':
        case 'out':
        case 'inout': {
          const p = ctx.ptr(i);
          const len = this.size(ctx, arg.size);
          if (!p || len <= 0) break;
          if (arg.kind === 'sockaddr') preReadSockaddr(obs, mem, decl.name, arg.name, p, len);
          else if (arg.kind !== 'out') obs.preRead(decl.name, ctx.what(i), p, len, false);
          if (!mem.isMapped(p, len)) return -E.EFAULT;
          const readOnly = arg.kind === 'in' || arg.kind === 'sockaddr';
          host[i] = this.hostPointer(p, len, arg.kind !== 'out', copyBack, !readOnly);
          if (arg.kind === 'out' || arg.kind === 'inout') posts.push({ guest: p, arg, size: len });
          break;
        }
        default:
          break;
      }
    }
    const r = hostSyscall(nrOverride ?? decl.nr, ...(host as [number, number, number, number, number, number]));
    for (const c of copyBack) mem.write(c.guest, this.bounce.bytes.subarray(c.hostOff, c.hostOff + c.len));
    if (r >= 0) {
      for (const p of posts) {
        const n = p.arg.post === undefined ? p.size : p.arg.post === 'result' ? r : this.size(ctx, p.arg.post);
        if (n > 0) obs.postWrite(p.guest, Math.min(n, p.size));
      }
      if (decl.returnsFd) return this.proc.fds.add({ host: r, cloexec: false });
    }
    return r;
  }

  // A host address for guest [p, p+len): the guest's own pages when host-contiguous, else a bounce copy.
  private hostPointer(p: number, len: number, copyIn: boolean, copyBack: Array<{ guest: number; hostOff: number; len: number }>,
    copyOut: boolean): number {
    const direct = this.proc.mem.hostAddress(p, len);
    if (direct !== undefined) return direct;
    const off = this.bounceUsed;
    if (off + len > this.bounce.size) throw new GuestFault(p);
    this.bounceUsed += len + (8 - (len % 8));
    if (copyIn) this.bounce.bytes.set(this.proc.mem.read(p, len), off);
    else this.bounce.bytes.fill(0, off, off + len);
    if (copyOut) copyBack.push({ guest: p, hostOff: off, len });
    return this.bounce.addr + off;
  }

  // An engine file says -EAGAIN when it has nothing yet (the xenstore connection before a watch
  // fires): the thread waits and retries, as a blocking read of a socket does.
  private virtualBlocking(ctx: SyscallContext, fdArg: number): number | Blocked {
    const r = this.virtualCall(ctx, fdArg);
    if (r !== -E.EAGAIN) return r;
    return {
      resume: () => {
        if (!this.proc.fds.get(ctx.int(fdArg))?.virt) return -E.EBADF;
        const again = this.virtualCall(ctx, fdArg);
        return again === -E.EAGAIN ? undefined : again;
      },
    };
  }

  // read/write/ioctl/close on an engine device.
  private virtualCall(ctx: SyscallContext, fdArg: number): number {
    const e = this.proc.fds.get(ctx.int(fdArg))!;
    const v = e.virt!;
    const mem = this.proc.mem;
    switch (ctx.decl.name) {
      // A connected socket's recvfrom/sendto without an address is read/write.
      case 'recvfrom':
      case 'read': {
        if (!v.read) return -E.EINVAL;
        const buf = new Uint8Array(ctx.ptr(2));
        const n = v.read(buf);
        if (n > 0) {
          mem.write(ctx.ptr(1), buf.subarray(0, n));
          this.proc.observer.postWrite(ctx.ptr(1), n);
        }
        return n;
      }
      case 'sendto':
      case 'write': {
        if (!v.write) return -E.EINVAL;
        this.proc.observer.preRead(ctx.decl.name, ctx.what(1), ctx.ptr(1), ctx.ptr(2), false);
        return v.write(mem.read(ctx.ptr(1), ctx.ptr(2)));
      }
      case 'ioctl':
        return v.ioctl ? v.ioctl(ctx.uint(1), ctx.ptr(2)) : -E.ENOTTY;
      default:
        return -E.EINVAL;
    }
  }

  /** Wakes up to n futex waiters on addr (thread exit's clear_child_tid). */
  futexWake(addr: number, n: number): number {
    return this.futex.wake(addr, n, 0xffffffff);
  }

  /** Sleeps in the host until one of fds is ready or timeoutMs passes. */
  hostPoll(fds: Array<{ host: number; events: number }>, timeoutMs: number): void {
    const b = this.bounce;
    const dv = new DataView(b.bytes.buffer, b.bytes.byteOffset);
    fds.slice(0, 512).forEach((f, i) => {
      dv.setInt32(i * 8, f.host, true);
      dv.setInt16(i * 8 + 4, f.events, true);
      dv.setInt16(i * 8 + 6, 0, true);
    });
    hostSyscall(7 /* poll */, b.addr, Math.min(fds.length, 512), Math.round(timeoutMs));
  }

  /** True when a host fd is ready now for events (poll with a zero timeout). */
  hostReady(hostFd: number, events: number): boolean {
    const b = this.bounce;
    const dv = new DataView(b.bytes.buffer, b.bytes.byteOffset);
    dv.setInt32(0, hostFd, true);
    dv.setInt16(4, events, true);
    dv.setInt16(6, 0, true);
    return hostSyscall(7, b.addr, 1, 0) > 0;
  }

  /** The scratch host buffer (for handlers that build host structures). */
  scratch(len: number): HostChunk {
    if (len > this.bounce.size) throw new Error('scratch request too large');
    return this.bounce;
  }

  private trace(ctx: SyscallContext, r: number | Blocked): void {
    const args = ctx.decl.args.map((a, i) => {
      if ((a.kind === 'path' || a.kind === 'cstr') && ctx.ptr(i)) {
        try {
          return JSON.stringify(this.proc.mem.readCString(ctx.ptr(i), 256));
        } catch {
          return `0x${ctx.ptr(i).toString(16)}`;
        }
      }
      if (a.kind === 'int' || a.kind === 'fd' || a.kind === 'dirfd') return String(ctx.int(i));
      if (a.kind === 'long') return String(ctx.long(i));
      if (a.kind === 'uint' || a.kind === 'ulong') return String(ctx.ptr(i));
      if (a.kind === 'oct') return `0${ctx.uint(i).toString(8)}`;
      return `0x${ctx.raw[i].toString(16)}`;
    });
    const res = typeof r !== 'number' ? '[blocks]'
      : r < 0 && r > -4096 ? `Failure(0x${(-r).toString(16)}) ${ERRNO_NAMES[-r] ?? ''}`.trimEnd()
        : `Success(0x${r.toString(16)})`;
    this.proc.opts.log.line(`SYSCALL[${this.proc.pid},${ctx.thread.number}](${String(ctx.decl.nr).padStart(3)}) sys_${ctx.decl.name} ( ${args.join(', ')} ) --> ${res}`);
  }
}
