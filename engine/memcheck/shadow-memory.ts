/**
 * Memcheck's shadow memory: for every guest byte, whether it is addressable (A) and which of its
 * bits are defined (V, memcheck's convention: a V bit of 1 means undefined).
 *
 * Kept compactly the way memcheck keeps it: the address space is cut into 64 KiB chunks, and a
 * chunk whose bytes are all in one state (all no-access, all undefined, all defined) is one of
 * three shared, read-only "distinguished" chunks. Only a chunk with mixed contents gets detail:
 * an A bitmap (1 bit per byte, 8 KiB) and a V byte per byte (64 KiB). A chunk that becomes
 * uniform again (a big munmap, a stack region re-defined) is folded back into a distinguished
 * one, so the detail stays proportional to the mixed part of memory.
 *
 * Addresses are Numbers up to 2^47: chunk numbers and offsets come from arithmetic, never from
 * 32-bit bit operators on addresses (offsets inside a chunk are < 2^16, where bit operators are
 * safe and fast).
 */
import { forChunkPieces } from './chunk-pieces';

/** Bytes covered by one shadow chunk. */
export const SHADOW_CHUNK_SIZE = 65536;
const CHUNK = SHADOW_CHUNK_SIZE;
const BITMAP_BYTES = CHUNK / 8;
/** Entries of the chunk lookup cache (a power of two). */
const CHUNK_CACHE = 64;
/** Folded chunks whose detail arrays are kept for reuse. */
const MAX_SPARES = 4;

// Chunk states. The first three are also the byte states a range can be set to.
const NOACCESS = 0;
const UNDEFINED = 1;
const DEFINED = 2;
const MIXED = 3;

/** A uniform state a range of bytes can be put in. */
type Uniform = typeof NOACCESS | typeof UNDEFINED | typeof DEFINED;

/**
 * One 64 KiB chunk. Distinguished chunks have empty arrays and are never mutated; a MIXED chunk
 * owns its arrays and keeps per-state byte counts so it can tell when it has become uniform.
 * All chunks share one shape so the hot paths stay monomorphic.
 */
class Chunk {
  constructor(
    readonly state: number,
    /** A bitmap: bit (i & 7) of byte (i >> 3) is 1 when byte i is addressable. */
    readonly a: Uint8Array,
    /** V byte of each byte; no-access bytes always hold 0xff (so a copy of V is meaningful). */
    readonly v: Uint8Array,
    /** The same V bytes as 32-bit words, for whole-word tests. */
    readonly v32: Int32Array,
    /** Bytes that are not addressable. */
    public nNoAccess: number,
    /** Addressable bytes with all V bits 0. */
    public nDefined: number,
    /** Addressable bytes with all V bits 1. */
    public nUndefined: number,
  ) {}
}

const EMPTY8 = new Uint8Array(0);
const EMPTY32 = new Int32Array(0);
const NOACCESS_CHUNK = new Chunk(NOACCESS, EMPTY8, EMPTY8, EMPTY32, CHUNK, 0, 0);
const UNDEFINED_CHUNK = new Chunk(UNDEFINED, EMPTY8, EMPTY8, EMPTY32, 0, 0, CHUNK);
const DEFINED_CHUNK = new Chunk(DEFINED, EMPTY8, EMPTY8, EMPTY32, 0, CHUNK, 0);
const DISTINGUISHED: readonly Chunk[] = [NOACCESS_CHUNK, UNDEFINED_CHUNK, DEFINED_CHUNK];

/** Sets the V byte of byte j of mixed chunk c to nv, keeping its counts; no-access bytes keep no V bits. */
function putVByte(c: Chunk, j: number, nv: number): void {
  if (((c.a[j >>> 3] >>> (j & 7)) & 1) === 0) return;
  const old = c.v[j];
  if (old === nv) return;
  if (old === 0) c.nDefined--;
  else if (old === 0xff) c.nUndefined--;
  if (nv === 0) c.nDefined++;
  else if (nv === 0xff) c.nUndefined++;
  c.v[j] = nv;
}

/** A fill of whole 8-byte groups small enough for fillGroups' single counting pass (stack frames, red zones, heap payloads). */
function isGroupFill(o: number, n: number): boolean {
  return ((o | n) & 7) === 0 && n <= 512;
}

/** True when bytes [o, o+n) of mixed chunk c are all addressable. */
function allAddressable(c: Chunk, o: number, n: number): boolean {
  if (c.nNoAccess === 0) return true;
  const a = c.a;
  for (let i = o, e = o + n; i < e; i++) if (((a[i >>> 3] >>> (i & 7)) & 1) === 0) return false;
  return true;
}

/**
 * The state all of bytes [o, o+n) of mixed chunk c share: DEFINED or UNDEFINED (addressable,
 * every V byte 0 or 0xff), or MIXED when they differ or some are not addressable.
 */
function rangeState(c: Chunk, o: number, n: number): number {
  if (!allAddressable(c, o, n)) return MIXED;
  const { v, v32 } = c;
  const first = v[o];
  if (first !== 0 && first !== 0xff) return MIXED;
  const word = first === 0 ? 0 : -1;
  let i = o;
  const e = o + n;
  for (; i < e && (i & 3) !== 0; i++) if (v[i] !== first) return MIXED;
  for (; i + 4 <= e; i += 4) if (v32[i >>> 2] !== word) return MIXED;
  for (; i < e; i++) if (v[i] !== first) return MIXED;
  return first === 0 ? DEFINED : UNDEFINED;
}

/** Memory-overhead figures of a shadow memory. */
export interface ShadowStats {
  /** Chunks with per-byte detail. */
  detailedChunks: number;
  /** Chunks represented by the shared all-undefined / all-defined chunk (no-access ones are
   * simply absent from the primary map). */
  undefinedChunks: number;
  definedChunks: number;
  /** Bytes held by detail arrays (A bitmaps and V bytes). */
  detailBytes: number;
  /** Estimated bytes of the whole structure, primary map entries included. */
  totalBytes: number;
}

/** Rough per-entry cost of a JS Map entry holding a number key and an object reference. */
const MAP_ENTRY_BYTES = 40;

/** Set bits [o, o+n) of a bitmap to 1 (on) or 0. */
function setBits(a: Uint8Array, o: number, n: number, on: boolean): void {
  let i = o;
  const end = o + n;
  // Head: bits up to the next byte boundary.
  while (i < end && (i & 7) !== 0) {
    if (on) a[i >>> 3] |= 1 << (i & 7);
    else a[i >>> 3] &= ~(1 << (i & 7));
    i++;
  }
  // Middle: whole bitmap bytes.
  const wholeEnd = end - ((end - i) & 7);
  if (wholeEnd > i) {
    a.fill(on ? 0xff : 0, i >>> 3, wholeEnd >>> 3);
    i = wholeEnd;
  }
  // Tail.
  while (i < end) {
    if (on) a[i >>> 3] |= 1 << (i & 7);
    else a[i >>> 3] &= ~(1 << (i & 7));
    i++;
  }
}

/**
 * A and V shadow state of the whole guest address space. Unmapped memory is no-access.
 */
export class ShadowMemory {
  /** Primary map: chunk number → chunk. Absent means the no-access chunk. */
  private readonly map = new Map<number, Chunk>();
  /** Last chunk looked up: guest code touches the same chunk many times in a row. */
  private lastNo = -1;
  private lastBase = -CHUNK;
  private lastChunk: Chunk = NOACCESS_CHUNK;
  // A direct-mapped cache in front of the primary map: stack chunk numbers are above the small
  // integers V8 hashes cheaply, and code alternates between stack, heap and globals.
  private readonly cacheNo = new Float64Array(CHUNK_CACHE).fill(-1);
  private readonly cacheChunk: Chunk[] = new Array<Chunk>(CHUNK_CACHE).fill(NOACCESS_CHUNK);
  /** Detail arrays of chunks folded back, for the next chunk that needs detail. */
  private readonly spares: Chunk[] = [];

  /**
   * Told whenever a range may become less than addressable-and-defined (no-access, undefined,
   * V bits set or copied in), so that whoever checks guest accesses can start watching it.
   */
  onRestrict: ((addr: number, len: number) => void) | undefined;

  // ---------------------------------------------------------------- state changes

  /** Marks [addr, addr+len) not addressable (munmap, freed blocks, redzones). */
  makeNoAccess(addr: number, len: number): void {
    this.onRestrict?.(addr, len);
    this.setRange(addr, len, NOACCESS);
  }

  /** Marks [addr, addr+len) addressable with every bit undefined (malloc, stack growth, brk). */
  makeUndefined(addr: number, len: number): void {
    this.onRestrict?.(addr, len);
    this.setRange(addr, len, UNDEFINED);
  }

  /** Marks [addr, addr+len) addressable and defined (mmap, program load, syscall output). */
  makeDefined(addr: number, len: number): void {
    this.setRange(addr, len, DEFINED);
  }

  /** Makes the addressable bytes of [addr, addr+len) defined; no-access bytes stay so
   * (memcheck's MAKE_MEM_DEFINED_IF_ADDRESSABLE). */
  makeDefinedIfAddressable(addr: number, len: number): void {
    this.forPieces(addr, len, (no, o, n) => {
      const c = this.chunkAt(no);
      if (c.state === NOACCESS || c.state === DEFINED) return;
      if (c.state === UNDEFINED) {
        if (n === CHUNK) this.put(no, DEFINED_CHUNK);
        else this.fillMixed(no, this.materialize(no, c), o, n, DEFINED);
        return;
      }
      const { a, v } = c;
      for (let i = o, e = o + n; i < e; i++) {
        if (((a[i >>> 3] >>> (i & 7)) & 1) === 0) continue;
        const old = v[i];
        if (old === 0) continue;
        if (old === 0xff) c.nUndefined--;
        v[i] = 0;
        c.nDefined++;
      }
      this.maybeMerge(no, c);
    });
  }

  /** Makes the no-access bytes of [addr, addr+len) defined and leaves the others alone: what
   * memcheck does when mprotect grants access to a range. */
  makeDefinedIfNoAccess(addr: number, len: number): void {
    this.forPieces(addr, len, (no, o, n) => {
      const c = this.chunkAt(no);
      if (c.state === UNDEFINED || c.state === DEFINED) return;
      if (c.state === NOACCESS) {
        if (n === CHUNK) this.put(no, DEFINED_CHUNK);
        else this.fillMixed(no, this.materialize(no, c), o, n, DEFINED);
        return;
      }
      const { a, v } = c;
      for (let i = o, e = o + n; i < e; i++) {
        if (((a[i >>> 3] >>> (i & 7)) & 1) !== 0) continue;
        a[i >>> 3] |= 1 << (i & 7);
        v[i] = 0;
        c.nNoAccess--;
        c.nDefined++;
      }
      this.maybeMerge(no, c);
    });
  }

  /**
   * Copies A and V state of [src, src+len) to [dst, dst+len), correct for overlapping ranges
   * (memcheck's copy_address_range_state: realloc, memmove, mremap).
   */
  copy(src: number, dst: number, len: number): void {
    if (len <= 0 || src === dst) return;
    // Only copies that carry something other than defined bytes restrict the destination.
    if (this.onRestrict && this.firstNotDefined(src, len) >= 0) this.onRestrict(dst, len);
    // Each piece lies inside one source chunk and one destination chunk and is read completely
    // before it is written; walking backwards when the destination overlaps the source from
    // above keeps every piece's source intact until it has been read.
    const backwards = src < dst && src + len > dst;
    let done = 0;
    while (done < len) {
      const rem = len - done;
      let s: number;
      let d: number;
      let n: number;
      if (backwards) {
        const sEnd = src + rem;
        const dEnd = dst + rem;
        const sLast = sEnd - 1;
        const dLast = dEnd - 1;
        n = Math.min(rem, sLast - Math.floor(sLast / CHUNK) * CHUNK + 1, dLast - Math.floor(dLast / CHUNK) * CHUNK + 1);
        s = sEnd - n;
        d = dEnd - n;
      } else {
        s = src + done;
        d = dst + done;
        n = Math.min(rem, CHUNK - (s - Math.floor(s / CHUNK) * CHUNK), CHUNK - (d - Math.floor(d / CHUNK) * CHUNK));
      }
      this.copyPiece(s, d, n);
      done += n;
    }
  }

  /**
   * Sets the V bits of the addressable bytes at [addr, addr+bytes.length) from `bytes` (1 =
   * undefined). Bytes that are not addressable are left alone: memcheck treats a V write to
   * no-access memory as lost (SET_VBITS, and stores of the future definedness pass).
   */
  setVbits(addr: number, bytes: Uint8Array): void {
    if (bytes.some((b) => b !== 0)) this.onRestrict?.(addr, bytes.length);
    let k = 0;
    this.forPieces(addr, bytes.length, (no, o, n) => {
      const base = k;
      k += n;
      let c = this.chunkAt(no);
      if (c.state === NOACCESS) return;
      if (c.state !== MIXED) {
        // A uniform chunk needs detail only if some written byte differs from its state.
        const same = c.state === DEFINED ? 0 : 0xff;
        let differs = false;
        for (let i = 0; i < n; i++) if (bytes[base + i] !== same) { differs = true; break; }
        if (!differs) return;
        c = this.materialize(no, c);
      }
      for (let i = 0; i < n; i++) putVByte(c, o + i, bytes[base + i]);
      this.maybeMerge(no, c);
    });
  }

  // ---------------------------------------------------------------- translated code's loads and stores

  /**
   * V bits of an addressable load of size 1, 2, 4, 8 or 16 bytes at addr, as an unsigned
   * little-endian BigInt (translated code's shadow load; the caller checked addressability).
   */
  loadV(addr: number, size: number): bigint {
    const c = this.chunkOf(addr);
    const o = addr - this.lastBase;
    if (c.state === DEFINED) return 0n;
    if (c.state !== MIXED || o + size > CHUNK) return this.loadVSlow(addr, size);
    if (size === 16) return this.loadV(addr, 8) | (this.loadV(addr + 8, 8) << 64n);
    if ((o & 3) === 0 && size >= 4) {
      // Aligned words read as V words (the host is little-endian, as the guest).
      const w0 = c.v32[o >>> 2];
      const w1 = size === 8 ? c.v32[(o >>> 2) + 1] : 0;
      if ((w0 | w1) === 0) return 0n;
      return size === 8 ? BigInt(w0 >>> 0) | (BigInt(w1 >>> 0) << 32n) : BigInt(w0 >>> 0);
    }
    const v = c.v;
    let lo = 0;
    let hi = 0;
    for (let i = Math.min(size, 4) - 1; i >= 0; i--) lo = (lo << 8) | v[o + i];
    for (let i = size - 1; i >= 4; i--) hi = (hi << 8) | v[o + i];
    if ((lo | hi) === 0) return 0n;
    return size > 4 ? BigInt(lo >>> 0) | (BigInt(hi >>> 0) << 32n) : BigInt(lo >>> 0);
  }

  private loadVSlow(addr: number, size: number): bigint {
    const b = this.getVbits(addr, size);
    let r = 0n;
    for (let i = size - 1; i >= 0; i--) r = (r << 8n) | BigInt(b[i]);
    return r;
  }

  /**
   * Records the V bits of a store of size bytes at addr (translated code's shadow store); bytes
   * that are not addressable keep no V bits, as in memcheck.
   */
  storeV(addr: number, size: number, vbits: bigint): void {
    const c = this.chunkOf(addr);
    const no = this.lastNo;
    const o = addr - this.lastBase;
    if (vbits === 0n) {
      if (c.state === DEFINED) return;
      // Defined data over defined bytes, the common store, changes nothing (no-access bytes
      // hold 0xff, so zero V bytes are addressable too).
      if (c.state === MIXED && o + size <= CHUNK) {
        const v = c.v;
        if ((o & 3) === 0 && (size === 4 || size === 8)) {
          // An aligned word: its V words (a 4-byte store reads its one word twice).
          const v32 = c.v32;
          const i = o >>> 2;
          const w0 = v32[i];
          const w1 = size === 8 ? v32[i + 1] : w0;
          if ((w0 | w1) === 0) return;
          // Over a fully undefined, addressable word (a new frame's first stores). The bitmap
          // mask of an 8-byte store at a 4-aligned offset spans two bitmap bytes and never
          // matches one: such a store takes the general path below.
          const bits = ((1 << size) - 1) << (o & 7);
          if (w0 === -1 && w1 === -1 && (c.a[o >>> 3] & bits) === bits) {
            v32[i] = 0;
            if (size === 8) v32[i + 1] = 0;
            c.nUndefined -= size;
            c.nDefined += size;
            this.maybeMerge(no, c);
            return;
          }
        } else {
          let z = 0;
          for (let i = 0; i < size; i++) z |= v[o + i];
          if (z === 0) return;
        }
        // Defined data over addressable bytes (initialising fresh memory): count and clear.
        if (allAddressable(c, o, size)) {
          let wasUndefined = 0;
          let wasPartial = 0;
          for (let i = 0; i < size; i++) {
            const b = v[o + i];
            if (b === 0xff) wasUndefined++;
            else if (b !== 0) wasPartial++;
            v[o + i] = 0;
          }
          c.nUndefined -= wasUndefined;
          c.nDefined += wasUndefined + wasPartial;
          this.maybeMerge(no, c);
          return;
        }
      }
    }
    if (c.state === MIXED && o + size <= CHUNK && size <= 8) {
      let lo = Number(vbits & 0xffffffffn);
      let hi = size > 4 ? Number(vbits >> 32n) : 0;
      for (let i = 0; i < size; i++) {
        const j = o + i;
        const nv = i < 4 ? lo & 0xff : hi & 0xff;
        if (i < 4) lo >>>= 8;
        else hi >>>= 8;
        putVByte(c, j, nv);
      }
      this.maybeMerge(no, c);
      return;
    }
    if (vbits === 0n) {
      this.makeDefinedIfAddressable(addr, size);
      return;
    }
    const b = new Uint8Array(size);
    for (let i = 0; i < size; i++) b[i] = Number((vbits >> BigInt(8 * i)) & 0xffn);
    this.setVbits(addr, b);
  }

  // ---------------------------------------------------------------- queries

  /**
   * V bits of [addr, addr+len), one byte per guest byte (1 bits undefined). No-access bytes read
   * as 0xff; callers that must distinguish them (GET_VBITS) ask firstUnaddressable first.
   */
  getVbits(addr: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    let k = 0;
    this.forPieces(addr, len, (no, o, n) => {
      const c = this.chunkAt(no);
      if (c.state === MIXED) out.set(c.v.subarray(o, o + n), k);
      else if (c.state !== DEFINED) out.fill(0xff, k, k + n);
      k += n;
    });
    return out;
  }

  /** True when the byte at addr is addressable. */
  isAddressable(addr: number): boolean {
    const no = Math.floor(addr / CHUNK);
    const c = this.chunkAt(no);
    if (c.state !== MIXED) return c.state !== NOACCESS;
    const o = addr - no * CHUNK;
    return ((c.a[o >>> 3] >>> (o & 7)) & 1) !== 0;
  }

  /** True when the byte at addr is addressable and all its bits are defined. */
  isDefinedByte(addr: number): boolean {
    const no = Math.floor(addr / CHUNK);
    const c = this.chunkAt(no);
    if (c.state !== MIXED) return c.state === DEFINED;
    const o = addr - no * CHUNK;
    return ((c.a[o >>> 3] >>> (o & 7)) & 1) !== 0 && c.v[o] === 0;
  }

  /**
   * Hot path for the memory hook of every guest load and store: true when all `size` bytes at
   * addr are addressable. One cached chunk lookup and, in a mixed chunk with no-access bytes, one
   * bitmap test for accesses inside a bitmap byte.
   */
  checkAccess(addr: number, size: number): boolean {
    const c = this.chunkOf(addr);
    const o = addr - this.lastBase;
    const st = c.state;
    if (o + size <= CHUNK) {
      if (st === UNDEFINED || st === DEFINED) return true;
      if (st === NOACCESS) return false;
      if (c.nNoAccess === 0) return true;
      const bit = o & 7;
      if (bit + size <= 8) {
        const m = ((1 << size) - 1) << bit;
        return (c.a[o >>> 3] & m) === m;
      }
    }
    return this.firstUnaddressable(addr, size) < 0;
  }

  /** First byte of [addr, addr+len) that is not addressable, or -1. */
  firstUnaddressable(addr: number, len: number): number {
    let a = addr;
    const end = addr + len;
    while (a < end) {
      const no = Math.floor(a / CHUNK);
      const base = no * CHUNK;
      const o = a - base;
      const n = Math.min(end - a, CHUNK - o);
      const c = this.chunkAt(no);
      if (c.state === NOACCESS) return a;
      if (c.state === MIXED && c.nNoAccess !== 0) {
        const bits = c.a;
        let i = o;
        const e = o + n;
        while (i < e) {
          // Skip fully addressable bitmap bytes eight at a time.
          if ((i & 7) === 0 && i + 8 <= e && bits[i >>> 3] === 0xff) { i += 8; continue; }
          if (((bits[i >>> 3] >>> (i & 7)) & 1) === 0) return base + i;
          i++;
        }
      }
      a += n;
    }
    return -1;
  }

  /** First addressable byte of [addr, addr+len) with an undefined bit, or -1. No-access bytes
   * are skipped: this is the definedness half of a check whose addressability is known. */
  firstUndefined(addr: number, len: number): number {
    return this.scanV(addr, len, false);
  }

  /**
   * First byte of [addr, addr+len) that is not addressable-and-defined, or -1: memcheck's
   * check_mem_is_defined (syscall PRE_MEM_READ, CHECK_MEM_IS_DEFINED). The caller tells the two
   * failures apart with isAddressable(result).
   */
  firstNotDefined(addr: number, len: number): number {
    return this.scanV(addr, len, true);
  }

  /**
   * True when the `size` (≤ 8) bytes at addr are all addressable and defined: the fast check of
   * a word-sized value (an address register, a syscall scalar spilled to memory, a leak-scan word).
   */
  checkDefinedWord(addr: number, size = 8): boolean {
    const no = Math.floor(addr / CHUNK);
    const c = this.chunkAt(no);
    const o = addr - no * CHUNK;
    if (o + size <= CHUNK) {
      if (c.state !== MIXED) return c.state === DEFINED;
      if (size === 8 && (o & 7) === 0) {
        return c.a[o >>> 3] === 0xff && c.v32[o >>> 2] === 0 && c.v32[(o >>> 2) + 1] === 0;
      }
    }
    return this.firstNotDefined(addr, size) < 0;
  }

  /** memcheck's is_valid_aligned_word: the 8-byte aligned word at addr is addressable and fully
   * defined (the leak scan follows only such words). */
  isValidAlignedWord(addr: number): boolean {
    return this.checkDefinedWord(addr, 8);
  }

  /**
   * How the aligned 8-byte words of [start, start+len) fare under isValidAlignedWord: 0 none
   * valid, 1 all valid, 2 mixed (ask per word). Lets the leak scan skip or bulk-read whole chunks.
   */
  wordValidity(start: number, len: number): 0 | 1 | 2 {
    let sawValid = false;
    let sawInvalid = false;
    const last = Math.floor((start + len - 1) / CHUNK);
    for (let no = Math.floor(start / CHUNK); no <= last; no++) {
      const st = this.chunkAt(no).state;
      if (st === MIXED) return 2;
      if (st === DEFINED) sawValid = true;
      else sawInvalid = true;
    }
    if (sawValid && sawInvalid) return 2;
    return sawValid ? 1 : 0;
  }

  /**
   * Fills out[i] with 1 when the aligned word at start + 8i passes isValidAlignedWord, else 0,
   * for the len / 8 words of [start, start+len) (start and len multiples of 8): the leak scan's
   * bulk form of the per-word test.
   */
  validWordMask(start: number, len: number, out: Uint8Array): void {
    let k = 0;
    this.forPieces(start, len, (no, o, n) => {
      const c = this.chunkAt(no);
      const words = n >>> 3;
      if (c.state !== MIXED) out.fill(c.state === DEFINED ? 1 : 0, k, k + words);
      else {
        const { a: bits, v32 } = c;
        for (let i = 0, w = o; i < words; i++, w += 8) {
          out[k + i] = bits[w >>> 3] === 0xff && v32[w >>> 2] === 0 && v32[(w >>> 2) + 1] === 0 ? 1 : 0;
        }
      }
      k += words;
    });
  }

  /** Memory-overhead figures (a benchmark number). */
  stats(): ShadowStats {
    let detailed = 0;
    let undef = 0;
    let def = 0;
    for (const c of this.map.values()) {
      if (c.state === MIXED) detailed++;
      else if (c.state === UNDEFINED) undef++;
      else def++;
    }
    const detailBytes = detailed * (BITMAP_BYTES + CHUNK);
    return {
      detailedChunks: detailed,
      undefinedChunks: undef,
      definedChunks: def,
      detailBytes,
      totalBytes: detailBytes + this.map.size * MAP_ENTRY_BYTES,
    };
  }

  // ---------------------------------------------------------------- internals

  /** The chunk holding addr, which then is the chunk used last (lastBase, lastNo). */
  private chunkOf(addr: number): Chunk {
    // Offset from the cached chunk's base: no division when the access hits it.
    const o = addr - this.lastBase;
    if (o >= 0 && o < CHUNK) return this.lastChunk;
    return this.chunkAt(Math.floor(addr / CHUNK));
  }

  private chunkAt(no: number): Chunk {
    if (no === this.lastNo) return this.lastChunk;
    const i = no & (CHUNK_CACHE - 1);
    let c: Chunk;
    if (this.cacheNo[i] === no) c = this.cacheChunk[i];
    else {
      c = this.map.get(no) ?? NOACCESS_CHUNK;
      this.cacheNo[i] = no;
      this.cacheChunk[i] = c;
    }
    this.lastNo = no;
    this.lastBase = no * CHUNK;
    this.lastChunk = c;
    return c;
  }

  private put(no: number, c: Chunk): void {
    if (c === NOACCESS_CHUNK) this.map.delete(no);
    else this.map.set(no, c);
    const i = no & (CHUNK_CACHE - 1);
    this.cacheNo[i] = no;
    this.cacheChunk[i] = c;
    this.lastNo = no;
    this.lastBase = no * CHUNK;
    this.lastChunk = c;
  }

  /** Calls fn(chunkNo, offset, length) for each chunk-sized piece of [addr, addr+len). */
  private forPieces(addr: number, len: number, fn: (no: number, o: number, n: number) => void): void {
    forChunkPieces(addr, len, CHUNK, fn);
  }

  /** Gives a distinguished chunk its own detail, in the same state. */
  private materialize(no: number, c: Chunk): Chunk {
    if (c.state === MIXED) return c;
    const spare = this.spares.pop();
    const v = spare?.v ?? new Uint8Array(new ArrayBuffer(CHUNK));
    const a = spare?.a ?? new Uint8Array(BITMAP_BYTES);
    v.fill(c.state === DEFINED ? 0 : 0xff);
    a.fill(c.state === NOACCESS ? 0 : 0xff);
    const m = new Chunk(MIXED, a, v, spare?.v32 ?? new Int32Array(v.buffer), c.nNoAccess, c.nDefined, c.nUndefined);
    this.put(no, m);
    return m;
  }

  /** Folds a mixed chunk that has become uniform back into the distinguished chunk. */
  private maybeMerge(no: number, c: Chunk): void {
    if (c.state !== MIXED) return;
    let u: Chunk;
    if (c.nNoAccess === CHUNK) u = NOACCESS_CHUNK;
    else if (c.nDefined === CHUNK) u = DEFINED_CHUNK;
    else if (c.nUndefined === CHUNK) u = UNDEFINED_CHUNK;
    else return;
    this.put(no, u);
    // A heap chunk may turn uniform and mixed again at every malloc: keep a few detail arrays
    // for reuse instead of allocating 72 KiB each time.
    if (this.spares.length < MAX_SPARES) this.spares.push(c);
  }

  private setRange(addr: number, len: number, st: Uniform): void {
    // Stack frames and red zones (several per call and return) fall in the chunk used last:
    // skipping the chunk arithmetic below halves their cost.
    const o = addr - this.lastBase;
    if (o >= 0 && o + len < CHUNK) {
      this.fillPiece(this.lastNo, this.lastChunk, o, len, st);
      return;
    }
    let a = addr;
    const end = addr + len;
    while (a < end) {
      const no = Math.floor(a / CHUNK);
      const o = a - no * CHUNK;
      const n = Math.min(end - a, CHUNK - o);
      if (n === CHUNK) this.put(no, DISTINGUISHED[st]);
      else this.fillPiece(no, this.chunkAt(no), o, n, st);
      a += n;
    }
  }

  /** Puts bytes [o, o+n) of chunk c (number no), less than all of it, in state st. */
  private fillPiece(no: number, c: Chunk, o: number, n: number, st: Uniform): void {
    if (c.state === MIXED && isGroupFill(o, n)) {
      // fillMixed's own first case, called directly: measured twice as fast on the red zone.
      this.fillGroups(c, o, n, st);
      this.maybeMerge(no, c);
    } else if (c.state !== st) {
      this.fillMixed(no, this.materialize(no, c), o, n, st);
    }
  }

  /**
   * fillMixed for whole 8-byte groups (stack frames, the red zone at every call and return, heap
   * payloads): one pass that counts each group's old state and writes its new one.
   */
  private fillGroups(c: Chunk, o: number, n: number, st: Uniform): void {
    const { a, v32 } = c;
    const ab = st === NOACCESS ? 0 : 0xff;
    const vw = st === DEFINED ? 0 : -1;
    let na = 0;
    let d = 0;
    let u = 0;
    for (let i = o, e = o + n; i < e; i += 8) {
      const ai = i >>> 3;
      const wi = i >>> 2;
      const oldA = a[ai];
      const w0 = v32[wi];
      const w1 = v32[wi + 1];
      if (oldA === 0) na += 8;
      else if (oldA === 0xff && w0 === w1 && (w0 === 0 || w0 === -1)) {
        if (w0 === 0) d += 8;
        else u += 8;
      } else {
        this.uncount(c, i, 8);
      }
      a[ai] = ab;
      v32[wi] = vw;
      v32[wi + 1] = vw;
    }
    c.nNoAccess -= na;
    c.nDefined -= d;
    c.nUndefined -= u;
    if (st === NOACCESS) c.nNoAccess += n;
    else if (st === DEFINED) c.nDefined += n;
    else c.nUndefined += n;
  }

  /** Removes bytes [o, o+n) of a mixed chunk from its per-state counts. */
  private uncount(c: Chunk, o: number, n: number): void {
    const { a, v, v32 } = c;
    let na = 0;
    let d = 0;
    let u = 0;
    let i = o;
    const e = o + n;
    while (i < e) {
      if ((i & 7) === 0 && i + 8 <= e) {
        // A whole bitmap byte: settle eight bytes at once in the common uniform cases.
        const ab = a[i >>> 3];
        if (ab === 0) { na += 8; i += 8; continue; }
        if (ab === 0xff) {
          const w0 = v32[i >>> 2];
          const w1 = v32[(i >>> 2) + 1];
          if (w0 === 0 && w1 === 0) { d += 8; i += 8; continue; }
          if (w0 === -1 && w1 === -1) { u += 8; i += 8; continue; }
        }
      }
      if (((a[i >>> 3] >>> (i & 7)) & 1) === 0) na++;
      else {
        const b = v[i];
        if (b === 0) d++;
        else if (b === 0xff) u++;
      }
      i++;
    }
    c.nNoAccess -= na;
    c.nDefined -= d;
    c.nUndefined -= u;
  }

  /** Puts bytes [o, o+n) of mixed chunk c (number no) in state st. */
  private fillMixed(no: number, c: Chunk, o: number, n: number, st: Uniform): void {
    if (isGroupFill(o, n)) {
      this.fillGroups(c, o, n, st);
      this.maybeMerge(no, c);
      return;
    }
    this.uncount(c, o, n);
    const vb = st === DEFINED ? 0 : 0xff;
    const on = st !== NOACCESS;
    if (n > 256) {
      setBits(c.a, o, n, on);
      c.v.fill(vb, o, o + n);
    } else {
      // Heap payloads and stack frames are small: whole bitmap bytes and V words by hand beat
      // the fill() builtins' call cost.
      const { a, v, v32 } = c;
      const e = o + n;
      let i = o;
      for (; i < e && (i & 7) !== 0; i++) {
        if (on) a[i >>> 3] |= 1 << (i & 7);
        else a[i >>> 3] &= ~(1 << (i & 7));
        v[i] = vb;
      }
      const ab = on ? 0xff : 0;
      const vw = vb === 0 ? 0 : -1;
      for (; i + 8 <= e; i += 8) {
        a[i >>> 3] = ab;
        v32[i >>> 2] = vw;
        v32[(i >>> 2) + 1] = vw;
      }
      for (; i < e; i++) {
        if (on) a[i >>> 3] |= 1 << (i & 7);
        else a[i >>> 3] &= ~(1 << (i & 7));
        v[i] = vb;
      }
    }
    if (st === NOACCESS) c.nNoAccess += n;
    else if (st === DEFINED) c.nDefined += n;
    else c.nUndefined += n;
    this.maybeMerge(no, c);
  }

  /** Copies one piece that lies inside a single source and a single destination chunk. */
  private copyPiece(s: number, d: number, n: number): void {
    const sNo = Math.floor(s / CHUNK);
    const sc = this.chunkAt(sNo);
    if (sc.state !== MIXED) {
      this.setRange(d, n, sc.state as Uniform);
      return;
    }
    const so = s - sNo * CHUNK;
    // Most copies carry bytes in one state (a string of defined bytes): a fill, not a byte loop.
    const st = rangeState(sc, so, n);
    if (st !== MIXED) {
      this.setRange(d, n, st as Uniform);
      return;
    }
    // Snapshot the source first: source and destination may be the same chunk.
    const vs = sc.v.slice(so, so + n);
    const as = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const j = so + i;
      as[i] = (sc.a[j >>> 3] >>> (j & 7)) & 1;
    }
    const dNo = Math.floor(d / CHUNK);
    const dc = this.materialize(dNo, this.chunkAt(dNo));
    const dOff = d - dNo * CHUNK;
    this.uncount(dc, dOff, n);
    const { a, v } = dc;
    for (let i = 0; i < n; i++) {
      const j = dOff + i;
      if (as[i]) {
        a[j >>> 3] |= 1 << (j & 7);
        const b = vs[i];
        v[j] = b;
        if (b === 0) dc.nDefined++;
        else if (b === 0xff) dc.nUndefined++;
      } else {
        a[j >>> 3] &= ~(1 << (j & 7));
        v[j] = 0xff;
        dc.nNoAccess++;
      }
    }
    this.maybeMerge(dNo, dc);
  }

  /** First byte in range that fails: addressable with undefined bits, or (when noAccessFails)
   * not addressable. */
  private scanV(addr: number, len: number, noAccessFails: boolean): number {
    let a = addr;
    const end = addr + len;
    while (a < end) {
      const no = Math.floor(a / CHUNK);
      const base = no * CHUNK;
      const o = a - base;
      const n = Math.min(end - a, CHUNK - o);
      const c = this.chunkAt(no);
      if (c.state === UNDEFINED) return a;
      if (c.state === NOACCESS) {
        if (noAccessFails) return a;
      } else if (c.state === MIXED) {
        const { a: bits, v, v32 } = c;
        let i = o;
        const e = o + n;
        while (i < e) {
          // Skip addressable, defined 8-byte groups at once.
          if ((i & 7) === 0 && i + 8 <= e && bits[i >>> 3] === 0xff
            && v32[i >>> 2] === 0 && v32[(i >>> 2) + 1] === 0) { i += 8; continue; }
          if (((bits[i >>> 3] >>> (i & 7)) & 1) === 0) {
            if (noAccessFails) return base + i;
          } else if (v[i] !== 0) return base + i;
          i++;
        }
      }
      a += n;
    }
    return -1;
  }
}
