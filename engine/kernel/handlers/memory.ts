/** The memory-map syscalls: the engine owns the guest address space, so these are emulated over GuestMemory. */
import * as fs from 'fs';
import { hostMmap, HostChunk } from '../../host/libc';
import { PAGE, pageCeil } from '../../memory/guest-memory';
import { E } from '../errno';
import type { SyscallContext } from '../syscall-context';
import type { VirtualFile } from '../fd-table';
import type { DeviceMmap } from './devices';

const MAP_SHARED = 1;
const MAP_FIXED = 0x10;
const MAP_ANONYMOUS = 0x20;
const MAP_FIXED_NOREPLACE = 0x100000;
const MREMAP_MAYMOVE = 1;
const MREMAP_FIXED = 2;
const HEAP_RESERVE = 1 << 30;

/** mmap(addr, length, prot, flags, fd, offset). */
export function sysMmap(ctx: SyscallContext): number {
  const { mem, fds } = ctx.proc;
  const hint = ctx.ptr(0);
  const len = pageCeil(ctx.ptr(1));
  const prot = ctx.int(2) & 7;
  const flags = ctx.int(3);
  const fd = ctx.int(4);
  const off = ctx.long(5);
  if (len === 0 || off % PAGE !== 0) return -E.EINVAL;
  const fixed = (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) !== 0;
  if (fixed && hint % PAGE !== 0) return -E.EINVAL;
  if ((flags & MAP_FIXED_NOREPLACE) && !mem.isFree(hint, len)) return -E.EEXIST;
  const start = fixed ? hint : mem.findFree(len, hint);
  if (start === undefined) return -E.ENOMEM;
  let chunk: HostChunk | number;
  let name = '';
  const shared = (flags & MAP_SHARED) !== 0;
  if (flags & MAP_ANONYMOUS) {
    chunk = hostMmap(len);
  } else {
    const e = fds.get(fd);
    if (!e) return -E.EBADF;
    if (e.virt) return mmapDevice(ctx, e.virt, start, len, prot, off, fixed, shared);
    chunk = hostMmap(len, e.host, off, shared);
    name = hostFdPath(e.host);
  }
  if (typeof chunk === 'number') return chunk;
  if (fixed) mem.unmap(start, len);
  mem.map(start, len, prot, name, { chunk, offset: 0 }, off, shared);
  return start;
}

/**
 * mmap of an engine file (Xen devices): the file supplies the pages, for the whole range or one
 * per page (frames it shares with a hypervisor), and the kernel maps them. The range is cleared
 * first for MAP_FIXED so the file sees the final layout. Device memory starts out defined, as
 * the contents of a file mapping do.
 */
function mmapDevice(ctx: SyscallContext, v: VirtualFile, start: number, len: number, prot: number, off: number, fixed: boolean,
  shared: boolean): number {
  const vm = (v as VirtualFile & { mmap?: DeviceMmap }).mmap;
  if (!vm) return -E.ENODEV;
  const { mem } = ctx.proc;
  if (fixed) mem.unmap(start, len);
  const got = vm.call(v, len, off, start, prot);
  if (typeof got === 'number') return got;
  if (Array.isArray(got)) {
    const pages = got as readonly HostChunk[];
    if (pages.length * PAGE !== len) return -E.EINVAL;
    pages.forEach((c, i) => mem.map(start + i * PAGE, PAGE, prot, v.name, { chunk: c, offset: 0 }, off + i * PAGE, shared));
  } else {
    mem.map(start, len, prot, v.name, { chunk: got as HostChunk, offset: 0 }, off, shared);
  }
  ctx.proc.observer.postWrite(start, len);
  return start;
}

/** The path the host kernel knows for a host fd (what /proc/self/maps shows). */
export function hostFdPath(hostFd: number): string {
  try {
    return fs.readlinkSync(`/proc/self/fd/${hostFd}`);
  } catch {
    return '';
  }
}

/** munmap(addr, length). */
export function sysMunmap(ctx: SyscallContext): number {
  const addr = ctx.ptr(0);
  if (addr % PAGE !== 0 || ctx.ptr(1) === 0) return -E.EINVAL;
  ctx.proc.mem.unmap(addr, pageCeil(ctx.ptr(1)));
  return 0;
}

/** mprotect(addr, len, prot). */
export function sysMprotect(ctx: SyscallContext): number {
  const addr = ctx.ptr(0);
  if (addr % PAGE !== 0) return -E.EINVAL;
  const len = pageCeil(ctx.ptr(1));
  if (len === 0) return 0;
  return ctx.proc.mem.protect(addr, len, ctx.int(2) & 7) ? 0 : -E.ENOMEM;
}

/** mremap(old, oldlen, newlen, flags, newaddr): shrink in place, or move to new pages with a copy. */
export function sysMremap(ctx: SyscallContext): number {
  const { mem } = ctx.proc;
  const old = ctx.ptr(0);
  const oldLen = pageCeil(ctx.ptr(1));
  const newLen = pageCeil(ctx.ptr(2));
  const flags = ctx.int(3);
  if (old % PAGE !== 0 || newLen === 0) return -E.EINVAL;
  const r = mem.find(old);
  if (!r || !mem.isMapped(old, oldLen)) return -E.EFAULT;
  if (newLen <= oldLen && !(flags & MREMAP_FIXED)) {
    if (newLen < oldLen) mem.unmap(old + newLen, oldLen - newLen);
    return old;
  }
  if (mem.isFree(old + oldLen, newLen - oldLen) && !(flags & MREMAP_FIXED)) {
    const chunk = hostMmap(newLen - oldLen);
    if (typeof chunk === 'number') return chunk;
    mem.map(old + oldLen, newLen - oldLen, r.perms, r.name, { chunk, offset: 0 }, r.fileOffset + oldLen);
    return old;
  }
  if (!(flags & MREMAP_MAYMOVE)) return -E.ENOMEM;
  const dest = flags & MREMAP_FIXED ? ctx.ptr(4) : mem.findFree(newLen);
  if (dest === undefined) return -E.ENOMEM;
  const data = mem.read(old, oldLen);
  if (flags & MREMAP_FIXED) mem.unmap(dest, newLen);
  const chunk = hostMmap(newLen);
  if (typeof chunk === 'number') return chunk;
  chunk.bytes.set(data);
  mem.map(dest, newLen, r.perms, r.name, { chunk, offset: 0 }, r.fileOffset);
  mem.unmap(old, oldLen);
  return dest;
}

/** brk(addr): grows [heap] inside one reserved host chunk so it stays host-contiguous. */
export function sysBrk(ctx: SyscallContext): number {
  const p = ctx.proc;
  const want = ctx.ptr(0);
  if (want < p.brkStart || want > p.brkStart + HEAP_RESERVE) return p.brkCur;
  const heapStart = pageCeil(p.brkStart);
  const newEnd = pageCeil(want);
  let heap = p.mem.find(heapStart);
  if (newEnd > heapStart) {
    if (!heap || heap.name !== '[heap]') {
      if (!p.mem.isFree(heapStart, newEnd - heapStart)) return p.brkCur;
      const chunk = hostMmap(HEAP_RESERVE);
      if (typeof chunk === 'number') return p.brkCur;
      heap = p.mem.map(heapStart, newEnd - heapStart, 3, '[heap]', { chunk, offset: 0 });
    } else if (newEnd > heap.end) {
      if (!p.mem.isFree(heap.end, newEnd - heap.end)) return p.brkCur;
      p.mem.extend(heap, newEnd);
    }
  }
  // Shrinking releases whole pages: Linux hands them back as zero pages on regrowth, and glibc's
  // calloc relies on that for fresh sbrk memory (MORECORE_CLEARS), so zero them now.
  if (want < p.brkCur && heap && heap.name === '[heap]') {
    const from = Math.max(pageCeil(want), heap.start);
    const to = Math.min(pageCeil(p.brkCur), heap.end);
    if (to > from) heap.chunk.bytes.fill(0, heap.chunkOffset + (from - heap.start), heap.chunkOffset + (to - heap.start));
  }
  p.brkCur = want;
  return want;
}

