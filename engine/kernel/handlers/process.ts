/** Process and thread syscalls the engine owns: exit, ids, clone for threads, TLS, execve, signals. */
import { X86 } from '../../cpu/x86-const';
import { hostSyscall } from '../../host/libc';
import { SIG, SigAction } from '../../process/signals';
import { E } from '../errno';
import type { SyscallContext } from '../syscall-context';
import type { Blocked } from '../syscall-decl';

const CLONE_VM = 0x100;
const CLONE_VFORK = 0x4000;
const CLONE_THREAD = 0x10000;
const CLONE_SETTLS = 0x80000;
const CLONE_PARENT_SETTID = 0x100000;
const CLONE_CHILD_CLEARTID = 0x200000;
const CLONE_CHILD_SETTID = 0x1000000;

const ARCH_SET_GS = 0x1001;
const ARCH_SET_FS = 0x1002;
const ARCH_GET_FS = 0x1003;
const ARCH_GET_GS = 0x1004;

function writeU32(ctx: SyscallContext, addr: number, v: number): void {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  ctx.proc.mem.write(addr, b);
  ctx.proc.observer.postWrite(addr, 4);
}

/** exit(code): ends the calling thread. */
export function sysExit(ctx: SyscallContext): number {
  ctx.proc.exitThread(ctx.thread, ctx.int(0) & 0xff);
  return 0;
}

/** exit_group(code): ends the process. */
export function sysExitGroup(ctx: SyscallContext): number {
  ctx.proc.exitGroup(ctx.int(0) & 0xff);
  return 0;
}

/** gettid(): guest threads get their own ids (the main thread's is the pid). */
export function sysGettid(ctx: SyscallContext): number {
  return ctx.thread.tid;
}

/** set_tid_address(tidptr). */
export function sysSetTidAddress(ctx: SyscallContext): number {
  ctx.thread.clearChildTid = ctx.ptr(0);
  return ctx.thread.tid;
}

/** set_robust_list(head, len): remembered; the engine never kills a thread holding robust futexes. */
export function sysSetRobustList(ctx: SyscallContext): number {
  if (ctx.ptr(1) !== 24) return -E.EINVAL;
  ctx.thread.robustList = ctx.ptr(0);
  return 0;
}

/** arch_prctl(code, addr): the FS/GS bases used for TLS. */
export function sysArchPrctl(ctx: SyscallContext): number {
  const uc = ctx.proc.uc;
  const code = ctx.int(0);
  const addr = ctx.ptr(1);
  switch (code) {
    case ARCH_SET_FS: uc.reg_write(X86.FS_BASE, addr); return 0;
    case ARCH_SET_GS: uc.reg_write(X86.GS_BASE, addr); return 0;
    case ARCH_GET_FS: ctx.proc.mem.writeU64(addr, uc.reg_read(X86.FS_BASE)); ctx.proc.observer.postWrite(addr, 8); return 0;
    case ARCH_GET_GS: ctx.proc.mem.writeU64(addr, uc.reg_read(X86.GS_BASE)); ctx.proc.observer.postWrite(addr, 8); return 0;
    default: return -E.EINVAL;
  }
}

/** clone(flags, stack, parent_tid, child_tid, tls): threads run inside the engine; fork-like clones are refused. */
export function sysClone(ctx: SyscallContext): number {
  const flags = ctx.long(0);
  if (!(flags & CLONE_VM) || !(flags & CLONE_THREAD)) {
    if (flags & CLONE_VFORK) return -E.ENOSYS;
    return -E.ENOSYS;
  }
  const t = ctx.proc.spawnThread(ctx.ptr(1), ctx.ptr(4), (flags & CLONE_SETTLS) !== 0);
  if (flags & CLONE_PARENT_SETTID) writeU32(ctx, ctx.ptr(2), t.tid);
  if (flags & CLONE_CHILD_SETTID) writeU32(ctx, ctx.ptr(3), t.tid);
  if (flags & CLONE_CHILD_CLEARTID) t.clearChildTid = ctx.ptr(3);
  t.stackHigh = ctx.ptr(1);
  return t.tid;
}

/** futex(uaddr, op, val, timeout, uaddr2, val3). */
export function sysFutex(ctx: SyscallContext): number | Blocked {
  return ctx.proc.kernel.futex.call(ctx.thread, ctx.ptr(0), ctx.int(1), ctx.int(2), ctx.ptr(3), ctx.ptr(4), ctx.int(5));
}

/** rt_sigaction(sig, act, oact, sigsetsize): the guest's handlers live in the engine; none is installed on the host. */
export function sysRtSigaction(ctx: SyscallContext): number {
  const sig = ctx.int(0);
  const { mem, sigactions, observer } = ctx.proc;
  if (sig < 1 || sig > 64 || ctx.ptr(3) !== 8) return -E.EINVAL;
  const actPtr = ctx.ptr(1);
  const oldPtr = ctx.ptr(2);
  if (actPtr && (sig === SIG.SIGKILL || sig === SIG.SIGSTOP)) return -E.EINVAL;
  const old = sigactions.get(sig) ?? { handler: 0, flags: 0, restorer: 0, mask: 0n };
  if (actPtr) {
    observer.preRead('rt_sigaction', 'rt_sigaction(act->sa_handler)', actPtr, 8, false);
    const b = mem.read(actPtr, 32);
    const dv = new DataView(b.buffer);
    const act: SigAction = { handler: Number(dv.getBigUint64(0, true)), flags: Number(dv.getBigUint64(8, true)),
      restorer: Number(dv.getBigUint64(16, true)), mask: dv.getBigUint64(24, true) };
    sigactions.set(sig, act);
  }
  if (oldPtr) {
    const b = new Uint8Array(32);
    const dv = new DataView(b.buffer);
    dv.setBigUint64(0, BigInt(old.handler), true);
    dv.setBigUint64(8, BigInt(old.flags), true);
    dv.setBigUint64(16, BigInt(old.restorer), true);
    dv.setBigUint64(24, old.mask, true);
    mem.write(oldPtr, b);
    observer.postWrite(oldPtr, 32);
  }
  return 0;
}

/** rt_sigprocmask(how, set, oldset, sigsetsize). */
export function sysRtSigprocmask(ctx: SyscallContext): number {
  const how = ctx.int(0);
  const setPtr = ctx.ptr(1);
  const oldPtr = ctx.ptr(2);
  const t = ctx.thread;
  if (ctx.ptr(3) !== 8) return -E.EINVAL;
  const old = t.sigmask;
  if (setPtr) {
    ctx.proc.observer.preRead('rt_sigprocmask', 'rt_sigprocmask(set)', setPtr, 8, false);
    // SIGKILL and SIGSTOP cannot be blocked.
    const set = ctx.proc.mem.readU64(setPtr) & ~((1n << 8n) | (1n << 18n));
    if (how === 0) t.sigmask |= set;
    else if (how === 1) t.sigmask &= ~set;
    else if (how === 2) t.sigmask = set;
    else return -E.EINVAL;
  }
  if (oldPtr) {
    ctx.proc.mem.writeU64(oldPtr, old);
    ctx.proc.observer.postWrite(oldPtr, 8);
  }
  return 0;
}

/** rt_sigreturn(): back from a handler through the frame the engine built. */
export function sysRtSigreturn(ctx: SyscallContext): number {
  ctx.proc.sigreturn();
  return Number(ctx.proc.uc.reg_read(X86.RAX));
}

/** sigaltstack(ss, old_ss). */
export function sysSigaltstack(ctx: SyscallContext): number {
  const t = ctx.thread;
  const { mem, observer } = ctx.proc;
  const oldPtr = ctx.ptr(1);
  const prev = t.altStack;
  if (ctx.ptr(0)) {
    const b = mem.read(ctx.ptr(0), 24);
    const dv = new DataView(b.buffer);
    t.altStack = [Number(dv.getBigUint64(0, true)), dv.getInt32(8, true), Number(dv.getBigUint64(16, true))];
  }
  if (oldPtr) {
    const b = new Uint8Array(24);
    const dv = new DataView(b.buffer);
    dv.setBigUint64(0, BigInt(prev[0]), true);
    dv.setInt32(8, prev[1], true);
    dv.setBigUint64(16, BigInt(prev[2]), true);
    mem.write(oldPtr, b);
    observer.postWrite(oldPtr, 24);
  }
  return 0;
}

/** kill(pid, sig): to ourselves it is a guest signal; to others it goes to the host. */
export function sysKill(ctx: SyscallContext): number {
  const pid = ctx.int(0);
  const sig = ctx.int(1);
  if (pid === ctx.proc.pid || pid === 0) {
    if (sig !== 0) ctx.proc.raise(sig, undefined, { code: 0 });
    return 0;
  }
  return hostSyscall(62, pid, sig);
}

/** tgkill(tgid, tid, sig) and tkill(tid, sig): a signal to one guest thread. */
export function sysTgkill(ctx: SyscallContext): number {
  const tkill = ctx.decl.name === 'tkill';
  const tid = ctx.int(tkill ? 0 : 1);
  const sig = ctx.int(tkill ? 1 : 2);
  const t = ctx.proc.threads.find((x) => x.tid === tid && x.state !== 'dead');
  if (!t) return -E.ESRCH;
  if (sig !== 0) ctx.proc.raise(sig, t, { code: -6 });
  return 0;
}

/** execve(path, argv, envp): the new program runs natively (as Valgrind does without --trace-children=yes). */
export function sysExecve(ctx: SyscallContext): number {
  const { mem } = ctx.proc;
  const readArray = (p: number): string[] => {
    const out: string[] = [];
    for (let a = p; p && out.length < 65536; a += 8) {
      const s = mem.readPtr(a);
      if (!s) break;
      out.push(mem.readCString(s));
    }
    return out;
  };
  const path = mem.readCString(ctx.ptr(0));
  const argv = readArray(ctx.ptr(1));
  const envp = readArray(ctx.ptr(2));
  // Build NUL-terminated strings and pointer arrays in host memory.
  const strs = [path, ...argv, ...envp].map((s) => Buffer.from(s + '\0', 'utf8'));
  const total = strs.reduce((n, b) => n + b.length, 0) + (argv.length + envp.length + 2) * 8 + 64;
  const scratch = ctx.proc.kernel.scratch(total);
  let off = (argv.length + envp.length + 2) * 8;
  const addrs = strs.map((b) => {
    scratch.bytes.set(b, off);
    const a = scratch.addr + off;
    off += b.length;
    return a;
  });
  const dv = new DataView(scratch.bytes.buffer, scratch.bytes.byteOffset);
  let k = 0;
  for (let i = 0; i < argv.length; i++) dv.setBigUint64(8 * k++, BigInt(addrs[1 + i]), true);
  dv.setBigUint64(8 * k++, 0n, true);
  const envStart = k;
  for (let i = 0; i < envp.length; i++) dv.setBigUint64(8 * k++, BigInt(addrs[1 + argv.length + i]), true);
  dv.setBigUint64(8 * k++, 0n, true);
  const restore = giveGuestFds(ctx);
  const r = hostSyscall(59, addrs[0], scratch.addr, scratch.addr + envStart * 8);
  restore();
  return r;
}

const F_DUPFD_CLOEXEC = 1030;
const HIGH_FD = 10000;

/**
 * The native program inherits the guest's descriptors under the guest's numbers (Node marks its
 * own stdio close-on-exec, and guest fd N is not host fd N). Whatever those numbers held on the
 * host is kept aside and put back if execve fails (execvp tries many paths).
 */
function giveGuestFds(ctx: SyscallContext): () => void {
  const moves: Array<[number, number]> = [];
  for (const [g, e] of ctx.proc.fds.entries()) {
    if (e.cloexec || e.virt || e.host < 0) continue;
    const copy = hostSyscall(72, e.host, F_DUPFD_CLOEXEC, HIGH_FD);
    if (copy >= 0) moves.push([g, copy]);
  }
  const saved: Array<[number, number]> = [];
  for (const [g, copy] of moves) {
    const keep = hostSyscall(72, g, F_DUPFD_CLOEXEC, HIGH_FD);
    if (keep >= 0) saved.push([g, keep]);
    hostSyscall(33 /* dup2, which clears close-on-exec */, copy, g);
  }
  return () => {
    for (const [g] of moves) hostSyscall(3, g);
    for (const [g, keep] of saved) {
      hostSyscall(33, keep, g);
      hostSyscall(3, keep);
    }
    for (const [, copy] of moves) hostSyscall(3, copy);
  };
}
