/** Sleeping syscalls: with other guest threads alive, a sleep must not stop the whole engine. */
import { hostSyscall } from '../../host/libc';
import type { SyscallContext } from '../syscall-context';
import type { Blocked } from '../syscall-decl';

const TIMER_ABSTIME = 1;

/** nanosleep(req, rem) / clock_nanosleep(clock, flags, req, rem). */
export function sysNanosleep(ctx: SyscallContext): number | Blocked {
  const clock = ctx.decl.name === 'clock_nanosleep';
  const reqArg = clock ? 2 : 0;
  const { mem, observer } = ctx.proc;
  observer.preRead(ctx.decl.name, ctx.what(reqArg), ctx.ptr(reqArg), 16, false);
  const dv = new DataView(mem.read(ctx.ptr(reqArg), 16).buffer);
  const sec = Number(dv.getBigInt64(0, true));
  const nsec = Number(dv.getBigInt64(8, true));
  if (nsec < 0 || nsec >= 1e9 || sec < 0) return -22;
  let ms = sec * 1000 + nsec / 1e6;
  if (clock && (ctx.int(1) & TIMER_ABSTIME)) {
    const id = ctx.int(0);
    const nowNs = id === 0 ? Date.now() * 1e6 : Number(process.hrtime.bigint());
    ms = (sec * 1e9 + nsec - nowNs) / 1e6;
  }
  const others = ctx.proc.threads.filter((t) => t.state !== 'dead').length > 1;
  if (!others) {
    // Alone: the host sleeps for us (exact, and interruptible by host signals).
    const scratch = ctx.proc.kernel.scratch(16);
    const sdv = new DataView(scratch.bytes.buffer, scratch.bytes.byteOffset);
    const wait = Math.max(0, ms);
    sdv.setBigInt64(0, BigInt(Math.floor(wait / 1000)), true);
    sdv.setBigInt64(8, BigInt(Math.round((wait % 1000) * 1e6)), true);
    return hostSyscall(35, scratch.addr, 0);
  }
  const deadline = Date.now() + ms;
  return { deadline, resume: () => (Date.now() >= deadline ? 0 : undefined) };
}
