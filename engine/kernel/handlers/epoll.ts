/**
 * epoll_wait / epoll_pwait: the epoll instance is the host's (epoll_create1 and epoll_ctl pass
 * through with their fds translated), but waiting is the engine's business, as for poll: with
 * other guest threads alive a wait must not block them all, so the thread waits on the epoll fd
 * becoming readable (it is, once an event is ready) and collects with a zero timeout.
 */
import { hostSyscall } from '../../host/libc';
import { E } from '../errno';
import type { SyscallContext } from '../syscall-context';
import type { Blocked } from '../syscall-decl';

const EPOLL_WAIT = 232;
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
