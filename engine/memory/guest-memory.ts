/**
 * The guest address space: a sorted map of regions, each backed by native host memory that is
 * mapped into Unicorn with uc_mem_map_ptr and seen from JS through a view over the same bytes
 * (zero copy both ways). Keeps permissions and names exact across mmap/munmap/mprotect/brk.
 */
import { Unicorn } from '../cpu/unicorn';
import { HostChunk, hostMmap, hostMunmap } from '../host/libc';

export const PAGE = 4096;

/** Rounds down / up to a page boundary (arithmetic, not bit operators: addresses exceed 32 bits). */
export const pageFloor = (a: number): number => a - (a % PAGE);
export const pageCeil = (a: number): number => (a % PAGE === 0 ? a : a - (a % PAGE) + PAGE);

/** One mapped range with uniform permissions. */
export interface Region {
  start: number;
  end: number;
  /** UC_PROT_* bits (read 1, write 2, exec 4). */
  perms: number;
  /** What /proc/self/maps and reports call it: a path, "[heap]", "[stack]", or "" (anonymous). */
  name: string;
  /** Offset in the named file of `start`, for /proc/self/maps and debug info. */
  fileOffset: number;
  /** Backing host memory; the guest byte at `start` is chunk.bytes[chunkOffset]. */
  chunk: HostChunk;
  chunkOffset: number;
  /** Whether this mapping shares the host file (MAP_SHARED). */
  shared: boolean;
}

/** Told of every change to the address space (shadow memory, debug info, translation cache). */
export interface MemoryListener {
  mapped?(r: Region): void;
  unmapped?(start: number, end: number): void;
  protected?(start: number, end: number, perms: number): void;
}

/** Thrown when the guest hands the engine an address it has not mapped. */
export class GuestFault extends Error {
  constructor(readonly addr: number) {
    super(`guest address 0x${addr.toString(16)} is not mapped`);
  }
}

export class GuestMemory {
  private regions: Region[] = [];
  private last: Region | undefined;
  private readonly listeners: MemoryListener[] = [];
  /** Lowest and highest addresses handed out for mmap without a fixed address. */
  mmapBase = 0x7ffff7fff000;
  mmapFloor = 0x10000;

  constructor(readonly uc: Unicorn) {}

  /** Subscribes to address-space changes. */
  listen(l: MemoryListener): void {
    this.listeners.push(l);
  }

  /** All regions, in address order. */
  list(): readonly Region[] {
    return this.regions;
  }

  /** The region containing addr, if any. */
  find(addr: number): Region | undefined {
    const l = this.last;
    if (l && addr >= l.start && addr < l.end) return l;
    const rs = this.regions;
    let lo = 0;
    let hi = rs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = rs[mid];
      if (addr < r.start) hi = mid - 1;
      else if (addr >= r.end) lo = mid + 1;
      else return (this.last = r);
    }
    return undefined;
  }

  /** True when every byte of [addr, addr+len) is mapped. */
  isMapped(addr: number, len: number): boolean {
    let a = addr;
    const end = addr + len;
    while (a < end) {
      const r = this.find(a);
      if (!r) return false;
      a = r.end;
    }
    return true;
  }

  /**
   * Maps [start, start+size) (page-aligned, currently unmapped) with new anonymous host memory or
   * the given chunk.
   */
  map(start: number, size: number, perms: number, name: string, backing?: { chunk: HostChunk; offset: number },
    fileOffset = 0, shared = false): Region {
    let chunk = backing?.chunk;
    let chunkOffset = backing?.offset ?? 0;
    if (!chunk) {
      const c = hostMmap(size);
      if (typeof c === 'number') throw new Error(`host mmap of ${size} bytes failed (errno ${-c})`);
      chunk = c;
      chunkOffset = 0;
    }
    const r: Region = { start, end: start + size, perms, name, fileOffset, chunk, chunkOffset, shared };
    this.uc.mem_map_ptr(start, size, perms, chunk.addr + chunkOffset);
    this.insert(r);
    for (const l of this.listeners) l.mapped?.(r);
    return r;
  }

  /** Grows a region in place into the host chunk that already backs it (brk). */
  extend(r: Region, newEnd: number): void {
    const extra = newEnd - r.end;
    if (extra <= 0) return;
    if (r.chunkOffset + (newEnd - r.start) > r.chunk.size) throw new Error('region cannot grow past its host chunk');
    this.uc.mem_map_ptr(r.end, extra, r.perms, r.chunk.addr + r.chunkOffset + (r.end - r.start));
    const tail: Region = { ...r, start: r.end, end: newEnd, chunkOffset: r.chunkOffset + (r.end - r.start),
      fileOffset: r.fileOffset + (r.end - r.start) };
    // Keep one logical region, as Linux does for [heap].
    r.end = newEnd;
    for (const l of this.listeners) l.mapped?.(tail);
  }

  /** Unmaps every mapped page of [start, start+size); pages that were not mapped are ignored, as in munmap(2). */
  unmap(start: number, size: number): void {
    const end = start + size;
    for (const r of this.splitAt(start, end)) {
      this.uc.mem_unmap(r.start, r.end - r.start);
      this.remove(r);
      this.releaseHost(r);
      for (const l of this.listeners) l.unmapped?.(r.start, r.end);
    }
  }

  /** Changes the permissions of [start, start+size); fails with false when part of it is unmapped. */
  protect(start: number, size: number, perms: number): boolean {
    if (!this.isMapped(start, size)) return false;
    for (const r of this.splitAt(start, start + size)) {
      this.uc.mem_protect(r.start, r.end - r.start, perms);
      r.perms = perms;
      for (const l of this.listeners) l.protected?.(r.start, r.end, perms);
    }
    return true;
  }

  /** Finds a free page-aligned range of size bytes, top-down from mmapBase as Linux does, or near a hint. */
  findFree(size: number, hint = 0): number | undefined {
    if (hint && hint % PAGE === 0 && this.isFree(hint, size)) return hint;
    let top = this.mmapBase;
    for (let i = this.regions.length - 1; i >= -1; i--) {
      const r = i >= 0 ? this.regions[i] : undefined;
      if (r && r.start >= top) continue;
      const gapLow = r ? r.end : this.mmapFloor;
      if (top - gapLow >= size && top - size >= this.mmapFloor) return top - size;
      if (!r) break;
      top = Math.min(top, r.start);
    }
    return undefined;
  }

  /** True when no byte of [start, start+size) is mapped. */
  isFree(start: number, size: number): boolean {
    const end = start + size;
    return !this.regions.some((r) => r.start < end && r.end > start);
  }

  /** A view of [addr, addr+len) when it lies in one host-contiguous region; undefined otherwise. */
  view(addr: number, len: number): Uint8Array | undefined {
    const r = this.find(addr);
    if (!r || addr + len > r.end) return len === 0 && r ? r.chunk.bytes.subarray(0, 0) : this.viewAcross(addr, len);
    const off = r.chunkOffset + (addr - r.start);
    return r.chunk.bytes.subarray(off, off + len);
  }

  /** The host address of guest addr when [addr, addr+len) is host-contiguous, else undefined. */
  hostAddress(addr: number, len: number): number | undefined {
    const r = this.find(addr);
    if (!r) return undefined;
    if (addr + len > r.end && !this.contiguousAfter(r, addr + len)) return undefined;
    return r.chunk.addr + r.chunkOffset + (addr - r.start);
  }

  /** Copies [addr, addr+len) out of guest memory; throws GuestFault on an unmapped byte. */
  read(addr: number, len: number): Uint8Array {
    const v = this.view(addr, len);
    if (v) return v.slice();
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const r = this.find(addr + done);
      if (!r) throw new GuestFault(addr + done);
      const n = Math.min(len - done, r.end - (addr + done));
      const off = r.chunkOffset + (addr + done - r.start);
      out.set(r.chunk.bytes.subarray(off, off + n), done);
      done += n;
    }
    return out;
  }

  /** Copies data into guest memory (ignoring guest permissions, as the kernel's copy_to_user on writable pages). */
  write(addr: number, data: Uint8Array): void {
    let done = 0;
    while (done < data.length) {
      const r = this.find(addr + done);
      if (!r) throw new GuestFault(addr + done);
      const n = Math.min(data.length - done, r.end - (addr + done));
      r.chunk.bytes.set(data.subarray(done, done + n), r.chunkOffset + (addr + done - r.start));
      done += n;
    }
  }

  /** Reads a little-endian u64 as a BigInt. */
  readU64(addr: number): bigint {
    const b = this.read(addr, 8);
    return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
  }

  /** Reads a little-endian u64 that is known to be below 2^53 (a pointer) as a Number. */
  readPtr(addr: number): number {
    return Number(this.readU64(addr));
  }

  /** Writes a little-endian u64. */
  writeU64(addr: number, v: bigint | number): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(v)), true);
    this.write(addr, b);
  }

  /** Reads a NUL-terminated string (at most max bytes); throws GuestFault when it runs into unmapped memory. */
  readCString(addr: number, max = 1 << 16): string {
    return Buffer.from(this.readCStringBytes(addr, max)).toString('utf8');
  }

  /** The bytes of a NUL-terminated string, without the NUL. */
  readCStringBytes(addr: number, max = 1 << 16): Uint8Array {
    const parts: Uint8Array[] = [];
    let a = addr;
    let total = 0;
    for (;;) {
      const r = this.find(a);
      if (!r) throw new GuestFault(a);
      const off = r.chunkOffset + (a - r.start);
      const avail = r.chunk.bytes.subarray(off, off + Math.min(r.end - a, max - total));
      const nul = avail.indexOf(0);
      if (nul >= 0) {
        parts.push(avail.subarray(0, nul));
        break;
      }
      parts.push(avail);
      total += avail.length;
      a += avail.length;
      if (total >= max) break;
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  private viewAcross(addr: number, len: number): Uint8Array | undefined {
    const r = this.find(addr);
    if (!r || !this.contiguousAfter(r, addr + len)) return undefined;
    const off = r.chunkOffset + (addr - r.start);
    return r.chunk.bytes.subarray(off, off + len);
  }

  // True when the regions after r up to `end` continue r's host chunk without a gap.
  private contiguousAfter(r: Region, end: number): boolean {
    let cur = r;
    while (cur.end < end) {
      const next = this.find(cur.end);
      if (!next || next.chunk !== cur.chunk || next.chunkOffset !== cur.chunkOffset + (cur.end - cur.start)) return false;
      cur = next;
    }
    return true;
  }

  // Splits regions at start and end, returning those wholly inside [start, end).
  private splitAt(start: number, end: number): Region[] {
    this.splitRegionAt(start);
    this.splitRegionAt(end);
    return this.regions.filter((r) => r.start >= start && r.end <= end);
  }

  private splitRegionAt(a: number): void {
    const r = this.find(a);
    if (!r || r.start === a) return;
    const tail: Region = { ...r, start: a, chunkOffset: r.chunkOffset + (a - r.start), fileOffset: r.fileOffset + (a - r.start) };
    r.end = a;
    this.insert(tail);
  }

  private insert(r: Region): void {
    let i = this.regions.length;
    while (i > 0 && this.regions[i - 1].start > r.start) i--;
    this.regions.splice(i, 0, r);
    this.last = undefined;
  }

  private remove(r: Region): void {
    const i = this.regions.indexOf(r);
    if (i >= 0) this.regions.splice(i, 1);
    this.last = undefined;
  }

  // Returns the host pages of an unmapped range to the host unless another region still uses them.
  private releaseHost(r: Region): void {
    const lo = r.chunk.addr + r.chunkOffset;
    const stillUsed = this.regions.some((o) => o.chunk === r.chunk);
    if (!stillUsed) hostMunmap(r.chunk.addr, r.chunk.size);
    else hostMunmap(lo, r.end - r.start);
  }
}
