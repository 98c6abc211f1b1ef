/**
 * epoll: the instance is the host's (epoll_create1 passes through), but epoll_ctl and the waits
 * are the engine's. epoll_ctl translates both fds and, as Valgrind, checks only the event's
 * `events` field (the data field is the program's own) and nothing for EPOLL_CTL_DEL, whose
 * event the kernel ignores (CPython passes an uninitialised one). Waiting is as for poll: with
 * other guest threads alive a wait must not block them all, so the thread waits on the epoll fd
 * becoming readable (it is, once an event is ready) and collects with a zero timeout.
 */
import { hostSyscall } from '../../host/libc';
import { E } from '../errno';
import type { SyscallContext } from '../syscall-context';
import type { Blocked } from '../syscall-decl';

const EPOLL_WAIT = 232;
const EPOLL_CTL = 233;
const EPOLL_CTL_DEL = 2;
const POLLIN = 1;
/** sizeof(struct epoll_event) on x86-64 (packed: u32 events, u64 data). */
const EVENT_SIZE = 12;
/** The kernel's limit on maxevents (INT_MAX / sizeof(struct epoll_event)). */
const MAX_EVENTS = Math.floor(0x7fffffff / EVENT_SIZE);

/** epoll_wait(epfd, events, maxevents, timeout) and epoll_pwait (its signal mask is not applied). */
export function sysEpollWait(ctx: SyscallContext): number | Blocked {
  const { mem, fds, observer, kernel } = ctx.proc;
  const e = fds.get(ctx.int(0));
  if (!e) return -E.EBADF;
  if (e.virt) return -E.EINVAL;
  const max = ctx.int(2);
  if (max <= 0 || max > MAX_EVENTS) return -E.EINVAL;
  const events = ctx.ptr(1);
  const len = max * EVENT_SIZE;
  if (!mem.isMapped(events, len)) return -E.EFAULT;
  const timeoutMs = ctx.int(3);
  const attempt = (wait: number): number => {
    const scratch = kernel.scratch(len);
    const r = hostSyscall(EPOLL_WAIT, e.host, scratch.addr, max, wait);
    if (r > 0) {
      mem.write(events, scratch.bytes.subarray(0, r * EVENT_SIZE));
      observer.postWrite(events, r * EVENT_SIZE);
    }
    return r;
  };
  const others = ctx.proc.threads.filter((t) => t.state !== 'dead').length > 1;
  if (!others || timeoutMs === 0) return attempt(timeoutMs);
  const first = attempt(0);
  if (first !== 0) return first;
  const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : undefined;
  return {
    waitFds: [{ host: e.host, events: POLLIN }],
    deadline,
    resume: () => {
      const r = attempt(0);
      if (r !== 0) return r;
      return deadline !== undefined && Date.now() >= deadline ? 0 : undefined;
    },
  };
}

/** epoll_ctl(epfd, op, fd, event). */
export function sysEpollCtl(ctx: SyscallContext): number {
  const { mem, fds, observer, kernel } = ctx.proc;
  const ep = fds.get(ctx.int(0));
  const target = fds.get(ctx.int(2));
  if (!ep || !target) return -E.EBADF;
  // An engine file (a device) cannot be watched by the host's epoll; the kernel says EPERM for
  // files it cannot poll.
  if (ep.virt || target.virt) return -E.EPERM;
  const op = ctx.int(1);
  if (op === EPOLL_CTL_DEL) return hostSyscall(EPOLL_CTL, ep.host, op, target.host, 0);
  const event = ctx.ptr(3);
  observer.preRead(ctx.decl.name, ctx.what(3), event, 4, false);
  if (!mem.isMapped(event, EVENT_SIZE)) return -E.EFAULT;
  const scratch = kernel.scratch(EVENT_SIZE);
  scratch.bytes.set(mem.read(event, EVENT_SIZE));
  return hostSyscall(EPOLL_CTL, ep.host, op, target.host, scratch.addr);
}
