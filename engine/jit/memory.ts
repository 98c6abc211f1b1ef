/**
 * Guest memory as the IR interpreter and generated code reach it: little-endian loads and stores
 * of 1, 2, 4, 8 or 16 bytes, straight on the native pages through views (the engine's
 * GuestMemory.view returns a zero-copy Uint8Array over them), with a cache of one DataView per
 * page, and a small direct-mapped cache in front, so that the hot path is an array lookup and a
 * typed read.
 */
import { low32 } from './bigint-bits';

/** A load or store the guest may not do: unmapped, or a write to a page without write permission. */
export class GuestMemoryFault extends Error {
  /** Address of the instruction that faulted, filled in by the interpreter. */
  insnAddr = 0;
  constructor(readonly addr: number, readonly size: number, readonly write: boolean) {
    super(`guest ${write ? 'write' : 'read'} of ${size} bytes at 0x${addr.toString(16)} faults`);
  }
}

/** What the interpreter needs of memory. Addresses are guest addresses (below 2^53 when valid). */
export interface GuestMemoryAccess {
  /** Loads size bytes (1, 2, 4, 8, 16) little-endian as an unsigned BigInt. */
  load(addr: number, size: number): bigint;
  /** Stores the low size bytes of value little-endian. */
  store(addr: number, size: number, value: bigint): void;
}

/**
 * The views a memory access goes through, with GuestMemory.view's contract: a Uint8Array over
 * [addr, addr+len) when it is mapped (host-contiguously) with the needed permission, else
 * undefined. Separate functions for reading and writing let the engine honour page protections.
 */
export interface ViewSource {
  readView(addr: number, len: number): Uint8Array | undefined;
  writeView(addr: number, len: number): Uint8Array | undefined;
}

const PAGE = 4096;
const M64 = (1n << 64n) - 1n;

/** Entries of the direct-mapped page cache in front of the page maps. */
const TLB_SIZE = 256;

/** GuestMemoryAccess over page views, cached per page until invalidate(). */
export class ViewMemory implements GuestMemoryAccess {
  private readonly readPages = new Map<number, DataView>();
  private readonly writePages = new Map<number, DataView>();
  // A small direct-mapped cache by page number, like a TLB: page addresses are above 2^31, so
  // Map lookups hash heap numbers, which costs more than the access itself.
  private readonly readTags = new Float64Array(TLB_SIZE).fill(-1);
  private readonly writeTags = new Float64Array(TLB_SIZE).fill(-1);
  private readonly readTlb: (DataView | undefined)[] = new Array<DataView | undefined>(TLB_SIZE).fill(undefined);
  private readonly writeTlb: (DataView | undefined)[] = new Array<DataView | undefined>(TLB_SIZE).fill(undefined);

  constructor(private readonly src: ViewSource) {}

  /** Forgets cached pages (after mmap, munmap, mprotect, brk changes). */
  invalidate(): void {
    this.readPages.clear();
    this.writePages.clear();
    this.readTags.fill(-1);
    this.writeTags.fill(-1);
    this.readTlb.fill(undefined);
    this.writeTlb.fill(undefined);
  }

  private page(addr: number, write: boolean): DataView | undefined {
    const pn = Math.floor(addr / PAGE);
    return write ? this.writePage(pn) : this.readPage(pn);
  }

  // The view of readable page pn (page number).
  private readPage(pn: number): DataView | undefined {
    return this.cached(pn, this.readTags, this.readTlb, false);
  }

  // The view of writable page pn.
  private writePage(pn: number): DataView | undefined {
    return this.cached(pn, this.writeTags, this.writeTlb, true);
  }

  // Page pn through one direct-mapped cache (tags and views), filled from the page maps on a miss.
  private cached(pn: number, tags: Float64Array, tlb: (DataView | undefined)[], write: boolean): DataView | undefined {
    const i = pn & (TLB_SIZE - 1);
    if (tags[i] === pn) return tlb[i];
    const dv = this.fill(pn, write);
    if (dv) {
      tags[i] = pn;
      tlb[i] = dv;
    }
    return dv;
  }

  // A page's view from the page maps, made on first use.
  private fill(pn: number, write: boolean): DataView | undefined {
    const base = pn * PAGE;
    const cache = write ? this.writePages : this.readPages;
    let dv = cache.get(base);
    if (!dv) {
      const v = write ? this.src.writeView(base, PAGE) : this.src.readView(base, PAGE);
      if (!v) return undefined;
      dv = new DataView(v.buffer, v.byteOffset, PAGE);
      cache.set(base, dv);
    }
    return dv;
  }

  load(addr: number, size: number): bigint {
    // Page number and offset by division and floor: `%` on a double above 2^31 is a call to fmod.
    const pn = Math.floor(addr / PAGE);
    const off = addr - pn * PAGE;
    const dv = off + size <= PAGE ? this.readPage(pn) : undefined;
    if (dv) {
      switch (size) {
        case 1: return BigInt(dv.getUint8(off));
        case 2: return BigInt(dv.getUint16(off, true));
        case 4: return BigInt(dv.getUint32(off, true));
        case 8: return dv.getBigUint64(off, true);
        case 16: return dv.getBigUint64(off, true) | (dv.getBigUint64(off + 8, true) << 64n);
      }
    }
    return this.slowLoad(addr, size);
  }

  store(addr: number, size: number, value: bigint): void {
    const pn = Math.floor(addr / PAGE);
    const off = addr - pn * PAGE;
    const dv = off + size <= PAGE ? this.writePage(pn) : undefined;
    if (dv) {
      switch (size) {
        case 1: dv.setUint8(off, low32(value) & 0xff); return;
        case 2: dv.setUint16(off, low32(value) & 0xffff, true); return;
        case 4: dv.setUint32(off, low32(value), true); return;
        case 8: dv.setBigUint64(off, value & M64, true); return;
        case 16: dv.setBigUint64(off, value & M64, true); dv.setBigUint64(off + 8, value >> 64n, true); return;
      }
    }
    this.slowStore(addr, size, value);
  }

  // Accesses that cross a page boundary (or hit an unmapped page), byte by byte. All bytes are
  // checked before any is written, so a faulting store changes nothing.
  private slowLoad(addr: number, size: number): bigint {
    if (!Number.isSafeInteger(addr) || addr < 0) throw new GuestMemoryFault(addr, size, false);
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) {
      const dv = this.page(addr + i, false);
      if (!dv) throw new GuestMemoryFault(addr, size, false);
      v = (v << 8n) | BigInt(dv.getUint8((addr + i) % PAGE));
    }
    return v;
  }

  private slowStore(addr: number, size: number, value: bigint): void {
    if (!Number.isSafeInteger(addr) || addr < 0) throw new GuestMemoryFault(addr, size, true);
    const pages: DataView[] = [];
    for (let i = 0; i < size; i++) {
      const dv = this.page(addr + i, true);
      if (!dv) throw new GuestMemoryFault(addr, size, true);
      pages.push(dv);
    }
    for (let i = 0; i < size; i++) pages[i].setUint8((addr + i) % PAGE, Number((value >> BigInt(8 * i)) & 0xffn));
  }
}
