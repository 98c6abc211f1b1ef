/**
 * ioctl(fd, request, arg): engine devices get theirs; host fds go to the host with the argument
 * translated by a table of the terminal and socket ioctls, or by the request's own _IOC
 * direction/size bits, as Valgrind does for ioctls it does not know.
 */
import { hostSyscall } from '../../host/libc';
import { E } from '../errno';
import type { SyscallContext } from '../syscall-context';

type Dir = 'none' | 'in' | 'out' | 'inout' | 'int';
/** Known ioctls: argument direction and size (the kernel's struct sizes on amd64). */
const IOCTLS: Record<number, { name: string; dir: Dir; size: number }> = {
  0x5401: { name: 'TCGETS', dir: 'out', size: 36 },
  0x5402: { name: 'TCSETS', dir: 'in', size: 36 },
  0x5403: { name: 'TCSETSW', dir: 'in', size: 36 },
  0x5404: { name: 'TCSETSF', dir: 'in', size: 36 },
  0x540b: { name: 'TCFLSH', dir: 'int', size: 0 },
  0x540f: { name: 'TIOCGPGRP', dir: 'out', size: 4 },
  0x5410: { name: 'TIOCSPGRP', dir: 'in', size: 4 },
  0x5413: { name: 'TIOCGWINSZ', dir: 'out', size: 8 },
  0x5414: { name: 'TIOCSWINSZ', dir: 'in', size: 8 },
  0x541b: { name: 'FIONREAD', dir: 'out', size: 4 },
  0x5421: { name: 'FIONBIO', dir: 'in', size: 4 },
  0x5450: { name: 'FIONCLEX', dir: 'none', size: 0 },
  0x5451: { name: 'FIOCLEX', dir: 'none', size: 0 },
  0x5452: { name: 'FIOASYNC', dir: 'in', size: 4 },
  0x80045430: { name: 'TIOCGPTN', dir: 'out', size: 4 },
  0x40045431: { name: 'TIOCSPTLCK', dir: 'in', size: 4 },
};

const warned = new Set<number>();

/** Direction and size from the _IOC encoding: dir in bits 30-31 (1 write-to-kernel, 2 read-from-kernel), size in 16-29. */
function fromEncoding(req: number): { dir: Dir; size: number } {
  const dir = (req >>> 30) & 3;
  const size = (req >>> 16) & 0x3fff;
  return { dir: size === 0 || dir === 0 ? 'none' : dir === 1 ? 'in' : dir === 2 ? 'out' : 'inout', size };
}

export function sysIoctl(ctx: SyscallContext): number {
  const fd = ctx.int(0);
  const req = ctx.uint(1);
  const e = ctx.proc.fds.get(fd);
  if (!e) return -E.EBADF;
  if (e.virt) return e.virt.ioctl ? e.virt.ioctl(req, ctx.ptr(2)) : -E.ENOTTY;
  if (req === 0x5450 || req === 0x5451) {
    e.cloexec = req === 0x5451;
    return 0;
  }
  const spec = IOCTLS[req] ?? fromEncoding(req);
  if (!IOCTLS[req] && !warned.has(req)) {
    warned.add(req);
    if (spec.dir === 'none' && ctx.ptr(2) > 0x10000) {
      ctx.proc.opts.log.line(`Warning: noted but unhandled ioctl 0x${req.toString(16)} with no size/direction hints.`);
      ctx.proc.opts.log.line('   This could cause spurious value errors to appear.');
    }
  }
  const p = ctx.ptr(2);
  if (spec.dir === 'none' || spec.dir === 'int' || !p) return hostSyscall(16, e.host, req, ctx.raw[2]);
  const { mem, observer } = ctx.proc;
  if (!mem.isMapped(p, spec.size)) return -E.EFAULT;
  if (spec.dir === 'in' || spec.dir === 'inout') observer.preRead('ioctl', `ioctl(${'name' in spec ? spec.name : 'generic'})`, p, spec.size, false);
  const host = mem.hostAddress(p, spec.size);
  let r: number;
  if (host !== undefined) r = hostSyscall(16, e.host, req, host);
  else {
    const scratch = ctx.proc.kernel.scratch(spec.size);
    scratch.bytes.set(mem.read(p, spec.size));
    r = hostSyscall(16, e.host, req, scratch.addr);
    mem.write(p, scratch.bytes.subarray(0, spec.size));
  }
  if (r >= 0 && (spec.dir === 'out' || spec.dir === 'inout')) observer.postWrite(p, spec.size);

  return r;
}
