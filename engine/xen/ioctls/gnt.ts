/**
 * /dev/xen/gntdev and /dev/xen/gntalloc: grant maps and allocations are registered under an
 * `index` (a file offset); mmap(fd, offset = index) then maps their frames.
 */

import { ForeignFrame, GrantHost, XenContext } from '../interfaces';
import { EINVAL, ENOSPC, ENOTTY } from '../errno';
import { readUint, writeUint } from '../layouts/view';
import { MmapPlan, runIoctl, XenFile } from './common';

const PAGE = 4096;

interface Region { index: number; frames: ForeignFrame[]; refs: number[]; vaddr?: number }

abstract class GrantFile implements XenFile {
  abstract readonly device: 'gntdev' | 'gntalloc';
  protected readonly regions: Region[] = [];
  protected nextIndex = 0;
  constructor(protected readonly host: GrantHost) {}
  abstract ioctl(request: number, argAddr: number, ctx: XenContext): number;

  protected add(frames: ForeignFrame[], refs: number[]): number {
    const index = this.nextIndex;
    this.nextIndex += frames.length * PAGE;
    this.regions.push({ index, frames, refs });
    return index;
  }
  protected remove(index: number, count: number): number {
    const i = this.regions.findIndex((r) => r.index === index && r.frames.length === count);
    if (i < 0) return -EINVAL;
    this.regions.splice(i, 1);
    return 0;
  }
  mmap(addr: number, len: number, offset: number): MmapPlan {
    const r = this.regions.find((x) => x.index === offset);
    if (!r || len !== r.frames.length * PAGE) return { kind: 'error', errno: EINVAL };
    r.vaddr = addr;
    return { kind: 'frames', frames: r.frames };
  }
  munmap(addr: number): void {
    for (const r of this.regions) if (r.vaddr === addr) r.vaddr = undefined;
  }
  close(): void {
    this.regions.length = 0;
  }
}

export class GntdevFile extends GrantFile {
  readonly device = 'gntdev' as const;
  private maxGrants = 1024;

  ioctl(request: number, argAddr: number, ctx: XenContext): number {
    return runIoctl('gntdev', request, argAddr, ctx, (decl, a) => {
      switch (decl.name) {
        case 'map_grant_ref': {
          const count = a!.num('count');
          if (count === 0 || count > this.maxGrants) return -EINVAL;
          const frames: ForeignFrame[] = [];
          const refs: number[] = [];
          for (let i = 0; i < count; i++) {
            const domid = Number(readUint(ctx.mem, argAddr + 16 + 8 * i, 4));
            const ref = Number(readUint(ctx.mem, argAddr + 20 + 8 * i, 4));
            const f = this.host.mapGrant(domid, ref);
            if (typeof f === 'number') return f;
            frames.push(f);
            refs.push(ref);
          }
          a!.set('index', this.add(frames, refs));
          return 0;
        }
        case 'unmap_grant_ref': return this.remove(Number(a!.get('index')), a!.num('count'));
        case 'get_offset_for_vaddr': {
          const r = this.regions.find((x) => x.vaddr === Number(a!.get('vaddr')));
          if (!r) return -EINVAL;
          a!.set('offset', r.index);
          a!.set('count', r.frames.length);
          return 0;
        }
        case 'set_max_grants': {
          this.maxGrants = a!.num('count');
          return 0;
        }
        case 'set_unmap_notify': return this.regions.some((r) => Number(a!.get('index')) >= r.index && Number(a!.get('index')) < r.index + r.frames.length * PAGE) ? 0 : -EINVAL;
        case 'grant_copy': return this.grantCopy(a!.num('count'), Number(a!.get('segments')), ctx);
        // The dma-buf ioctls need CONFIG_XEN_GNTDEV_DMABUF, which Debian's kernel lacks.
        default: return -ENOTTY;
      }
    });
  }

  /** GNTCOPY_source_gref 1, GNTCOPY_dest_gref 2; status GNTST_okay 0, general_error -1. */
  private grantCopy(count: number, segs: number, ctx: XenContext): number {
    for (let i = 0; i < count; i++) {
      const s = segs + 24 * i;
      const len = Number(readUint(ctx.mem, s + 16, 2));
      const flags = Number(readUint(ctx.mem, s + 18, 2));
      const end = (off: number, foreign: boolean): { frame: Uint8Array; offset: number } | { addr: number } | undefined => {
        if (!foreign) return { addr: Number(readUint(ctx.mem, s + off, 8)) };
        const ref = Number(readUint(ctx.mem, s + off, 4));
        const o = Number(readUint(ctx.mem, s + off + 4, 2));
        const dom = Number(readUint(ctx.mem, s + off + 6, 2));
        const f = this.host.mapGrant(dom, ref);
        return typeof f === 'number' || o + len > PAGE ? undefined : { frame: f, offset: o };
      };
      const src = end(0, (flags & 1) !== 0);
      const dst = end(8, (flags & 2) !== 0);
      let ok = src !== undefined && dst !== undefined;
      if (ok) {
        const bytes = 'addr' in src! ? ctx.mem.read(src.addr, len) : src!.frame.slice(src!.offset, src!.offset + len);
        if (!bytes) ok = false;
        else if ('addr' in dst!) ok = ctx.mem.write(dst.addr, bytes);
        else dst!.frame.set(bytes, dst!.offset);
      }
      writeUint(ctx.mem, s + 20, 2, ok ? 0 : 0xffff);
    }
    return 0;
  }
}

export class GntallocFile extends GrantFile {
  readonly device = 'gntalloc' as const;

  ioctl(request: number, argAddr: number, ctx: XenContext): number {
    return runIoctl('gntalloc', request, argAddr, ctx, (decl, a) => {
      switch (decl.name) {
        case 'alloc_gref': {
          const count = a!.num('count');
          if (count === 0 || count > 1024) return -ENOSPC;
          const frames: ForeignFrame[] = [];
          const refs: number[] = [];
          for (let i = 0; i < count; i++) {
            const g = this.host.allocGrant(a!.num('domid'), (a!.num('flags') & 1) !== 0);
            if (typeof g === 'number') { refs.forEach((r) => this.host.freeGrant(r)); return g; }
            frames.push(g.frame);
            refs.push(g.ref);
            writeUint(ctx.mem, argAddr + 16 + 4 * i, 4, g.ref);
          }
          a!.set('index', this.add(frames, refs));
          return 0;
        }
        case 'dealloc_gref': {
          const r = this.regions.find((x) => x.index === Number(a!.get('index')));
          if (r) r.refs.forEach((ref) => this.host.freeGrant(ref));
          return this.remove(Number(a!.get('index')), a!.num('count'));
        }
        case 'set_unmap_notify': return this.regions.some((r) => r.index === Number(a!.get('index')) - (Number(a!.get('index')) % PAGE)) ? 0 : -EINVAL;
        default: return -ENOTTY;
      }
    });
  }
}
