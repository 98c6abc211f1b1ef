/**
 * /dev/xen/privcmd (and /proc/xen/privcmd) and /dev/xen/hypercall, with Linux's semantics.
 */

import { XenContext } from '../interfaces';
import { EFAULT, EINVAL, ENOENT, ENOSYS, ENOTTY, EPERM } from '../errno';
import { readUint, StructRef, writeUint } from '../layouts/view';
import { privcmdHypercall } from '../hypercalls/dispatch';
import { MmapPlan, runIoctl, XenFile } from './common';
import { IOCTL } from './table';

const PAGE = 4096;
const DOMID_INVALID = 0x7ff4;
const MFN_ERROR = 0xf0000000n;
const PAGED_ERROR = 0x80000000n;

/** One open of /dev/xen/privcmd. */
export class PrivcmdFile implements XenFile {
  readonly device = 'privcmd' as const;
  /** IOCTL_PRIVCMD_RESTRICT: once set, only this domain may be targeted. */
  restrict: number | undefined;
  /** Windows mmap()ed from this fd; foreign frames may only be mapped inside them. */
  private readonly windows: Array<{ addr: number; len: number }> = [];

  mmap(addr: number, len: number): MmapPlan {
    this.windows.push({ addr, len });
    return { kind: 'anonymous' };
  }
  munmap(addr: number, len: number): void {
    const i = this.windows.findIndex((w) => w.addr === addr && w.len === len);
    if (i >= 0) this.windows.splice(i, 1);
  }
  private inWindow(addr: number, len: number): boolean {
    return this.windows.some((w) => addr >= w.addr && addr + len <= w.addr + w.len);
  }
  private allowed(dom: number): boolean {
    return this.restrict === undefined || this.restrict === dom;
  }

  ioctl(request: number, argAddr: number, ctx: XenContext): number {
    if (request >>> 0 === IOCTL.privcmd_hypercall) {
      // A restricted fd may not issue raw hypercalls.
      if (this.restrict !== undefined) return -EPERM;
      return privcmdHypercall(argAddr, ctx.mem, ctx.checker, ctx.hv, ctx.warn);
    }
    return runIoctl('privcmd', request, argAddr, ctx, (decl, a) => {
      switch (decl.name) {
        case 'unimplemented':
        case 'irqfd':
        case 'ioeventfd':
          // libxenforeignmemory probes UNIMPLEMENTED and aborts if it succeeds; IRQFD and
          // IOEVENTFD exist only from Linux 6.7 (Debian 12 runs 6.1).
          return -ENOTTY;
        case 'restrict': {
          const dom = a!.num('dom');
          if (this.restrict !== undefined && this.restrict !== dom) return -EINVAL;
          this.restrict = dom;
          return 0;
        }
        case 'dm_op': return this.dmOp(a!, ctx);
        case 'mmap': return this.mmapEntries(a!, ctx);
        case 'mmapbatch': return this.mmapBatch(a!, ctx, 1);
        case 'mmapbatch_v2': return this.mmapBatch(a!, ctx, 2);
        case 'mmap_resource': return this.mmapResource(a!, ctx);
        default: return -ENOTTY;
      }
    });
  }

  private dmOp(a: StructRef, ctx: XenContext): number {
    const dom = a.num('dom');
    const num = a.num('num');
    // Linux answers an empty request itself: libxendevicemodel's open-time probe.
    if (num === 0) return 0;
    if (!this.allowed(dom) || dom === DOMID_INVALID) return this.allowed(dom) ? -EINVAL : -EPERM;
    // privcmd_dm_op_buf and xen_dm_op_buf have the same layout: pass the array through.
    return Number(ctx.hv.hypercall(41, [BigInt(dom), BigInt(num), a.get('ubufs')], ctx.mem));
  }

  private mmapEntries(a: StructRef, ctx: XenContext): number {
    const dom = a.num('dom');
    if (!this.allowed(dom)) return -EPERM;
    if (!ctx.mapper) return -ENOSYS;
    const entries = Number(a.get('entry'));
    for (let i = 0; i < a.num('num'); i++) {
      const va = Number(readUint(ctx.mem, entries + 24 * i, 8));
      const mfn = readUint(ctx.mem, entries + 24 * i + 8, 8);
      const n = Number(readUint(ctx.mem, entries + 24 * i + 16, 8));
      if (!this.inWindow(va, n * PAGE)) return -EINVAL;
      for (let p = 0; p < n; p++) {
        const f = ctx.hv.mapForeign(dom, mfn + BigInt(p));
        if (typeof f === 'number') return f;
        ctx.mapper.mapFrame(va + p * PAGE, f);
      }
    }
    return 0;
  }

  private mmapBatch(a: StructRef, ctx: XenContext, version: 1 | 2): number {
    const dom = a.num('dom');
    const num = a.num('num');
    const addr = Number(a.get('addr'));
    if (!this.allowed(dom)) return -EPERM;
    if (!ctx.mapper) return -ENOSYS;
    if (num === 0 || !this.inWindow(addr, num * PAGE)) return -EINVAL;
    const arr = Number(a.get('arr'));
    const err = version === 2 ? Number(a.get('err')) : 0;
    // V2 clears the error array first so only real errors are copied back.
    if (version === 2 && !ctx.mem.write(err, new Uint8Array(4 * num))) return -EFAULT;
    let sawEnoent = false;
    for (let i = 0; i < num; i++) {
      const gfn = readUint(ctx.mem, arr + 8 * i, 8);
      const f = ctx.hv.mapForeign(dom, gfn);
      if (typeof f === 'number') {
        if (f === -ENOENT) sawEnoent = true;
        if (version === 2) writeUint(ctx.mem, err + 4 * i, 4, f);
        else writeUint(ctx.mem, arr + 8 * i, 8, gfn | (f === -ENOENT ? PAGED_ERROR : MFN_ERROR));
        continue;
      }
      ctx.mapper.mapFrame(addr + i * PAGE, f);
    }
    return sawEnoent ? -ENOENT : 0;
  }

  private mmapResource(a: StructRef, ctx: XenContext): number {
    const dom = a.num('dom');
    if (!this.allowed(dom)) return -EPERM;
    const addr = Number(a.get('addr'));
    const num = Number(a.get('num'));
    if (addr === 0 && num === 0) {
      const n = ctx.hv.resourceFrames(dom, a.num('type'), a.num('id'));
      if (n < 0) return n;
      a.set('num', n);
      return 0;
    }
    if (!ctx.mapper) return -ENOSYS;
    if (!this.inWindow(addr, num * PAGE)) return -EINVAL;
    for (let i = 0; i < num; i++) {
      const f = ctx.hv.mapResource(dom, a.num('type'), a.num('id'), BigInt(a.num('idx') + i));
      if (typeof f === 'number') return f;
      ctx.mapper.mapFrame(addr + i * PAGE, f);
    }
    return 0;
  }

  close(): void {
    this.windows.length = 0;
  }
}

/**
 * /dev/xen/hypercall: only mmap, yielding fresh zeroed pages for hypercall buffers (libxencall
 * falls back to anonymous memory when the device is missing). Its ioctls are unknown to Linux.
 */
export class HypercallBufFile implements XenFile {
  readonly device = 'hypercall' as const;
  ioctl(): number {
    return -ENOTTY;
  }
  mmap(_addr: number, _len: number, offset: number): MmapPlan {
    return offset === 0 ? { kind: 'anonymous' } : { kind: 'error', errno: EINVAL };
  }
  close(): void { /* nothing held */ }
}
