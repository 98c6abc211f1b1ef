/**
 * The client arena: guest memory the replacement allocator carves heap blocks from, and its free
 * space. Memory comes in large segments from an injected `grow` (the engine maps anonymous guest
 * pages). The untouched end of the newest segment is the "wilderness", carved by bumping a
 * pointer; returned extents are kept in segregated size classes (exact 16-byte classes below
 * 2 KiB, four classes per power of two above), coalesced with their free neighbours, and reused
 * before the wilderness. Extents are multiples of 16 bytes at 16-byte aligned addresses.
 */

/** Where arena memory comes from. */
export interface ArenaBacking {
  /**
   * Provides at least minBytes of fresh guest memory (16-byte aligned, normally page-aligned
   * anonymous pages), or undefined when the guest address space is exhausted.
   */
  grow(minBytes: number): { start: number; size: number } | undefined;
}

/** One segment obtained from the backing. */
export interface ArenaSegment {
  start: number;
  size: number;
}

const GRAIN = 16;
const EXACT_CLASSES = 128; // sizes 0 .. 2032 in steps of 16
const MAX_CLASS = EXACT_CLASSES + (48 - 11) * 4;
const MAX_GROW_STEP = 64 * 1024 * 1024;

/** Size class of an extent size (a multiple of 16). */
function classOf(size: number): number {
  if (size < EXACT_CLASSES * GRAIN) return size >>> 4;
  let e: number;
  if (size < 2 ** 31) {
    e = 31 - Math.clz32(size);
    return EXACT_CLASSES + (e - 11) * 4 + (size >>> (e - 2)) - 4;
  }
  e = Math.floor(Math.log2(size));
  // log2 may round up just below a power of two; settle e exactly.
  if (2 ** e > size) e--;
  else if (2 ** (e + 1) <= size) e++;
  return EXACT_CLASSES + (e - 11) * 4 + Math.floor(size / 2 ** (e - 2)) - 4;
}

export class Arena {
  /** Free extents: start → end, and end → start for coalescing with a left neighbour. */
  private readonly freeByStart = new Map<number, number>();
  private readonly freeByEnd = new Map<number, number>();
  /** Free extent starts by size class; a Set keeps insertion order, so the longest-free extent
   * of a class is reused first (later reuse = longer window to catch dangling pointers). */
  private readonly classes: Set<number>[] = [];
  /** One bit per class that has extents, to find the next non-empty class quickly. */
  private readonly nonEmpty = new Uint32Array(Math.ceil((MAX_CLASS + 1) / 32));
  /** The wilderness [wildStart, wildEnd): never-used end of the newest segment. */
  private wildStart = 0;
  private wildEnd = 0;
  /** Segment starts: extents never coalesce across them (segments need not be contiguous in
   * the host, and a block must stay inside one guest mapping for zero-copy views). */
  private readonly segStarts = new Set<number>();
  private readonly segs: ArenaSegment[] = [];
  private growStep: number;
  private listedBytes = 0;

  constructor(private readonly backing: ArenaBacking, growStep = 1024 * 1024, private readonly onGrow?: (seg: ArenaSegment) => void) {
    this.growStep = Math.max(growStep, 64 * 1024);
    for (let c = 0; c <= MAX_CLASS; c++) this.classes.push(new Set());
  }

  /** The segments obtained so far (the leak check must not scan them as roots). */
  segments(): readonly ArenaSegment[] {
    return this.segs;
  }

  /** Bytes obtained from the backing. */
  get mappedBytes(): number {
    let n = 0;
    for (const s of this.segs) n += s.size;
    return n;
  }

  /** Bytes currently free in the arena. */
  get free(): number {
    return this.listedBytes + (this.wildEnd - this.wildStart);
  }

  /**
   * Reserves an extent of `total` bytes (multiple of 16) whose start plus `offset` is a multiple
   * of `align` (a power of two ≥ 16); returns its start, or undefined when the backing cannot
   * grow.
   */
  take(total: number, align: number, offset: number): number | undefined {
    const need = total + (align > GRAIN ? align - GRAIN : 0);
    let start: number;
    let end: number;
    const listed = this.findListed(need);
    if (listed !== undefined) {
      start = listed;
      end = this.freeByStart.get(start) as number;
      this.unlinkFree(start, end);
    } else {
      if (this.wildEnd - this.wildStart < need && !this.grow(need)) return undefined;
      start = this.wildStart;
      end = this.wildEnd;
      this.wildStart = this.wildEnd = 0;
    }
    const blockStart = align > GRAIN ? Math.ceil((start + offset) / align) * align - offset : start;
    const blockEnd = blockStart + total;
    // Leading alignment slack goes back to the free lists, the tail back where it came from.
    if (blockStart > start) this.linkFree(start, blockStart);
    if (listed === undefined) {
      this.wildStart = blockEnd;
      this.wildEnd = end;
    } else if (end > blockEnd) this.linkFree(blockEnd, end);
    return blockStart;
  }

  /** Returns the extent [start, end) to the free space, merged with free neighbours. */
  release(start: number, end: number): void {
    let s = start;
    let e = end;
    if (!this.segStarts.has(s)) {
      const left = this.freeByEnd.get(s);
      if (left !== undefined) {
        this.unlinkFree(left, s);
        s = left;
      }
    }
    if (e === this.wildStart && e < this.wildEnd) {
      // Back into the wilderness: the bump pointer retreats.
      this.wildStart = s;
      return;
    }
    if (!this.segStarts.has(e)) {
      const right = this.freeByStart.get(e);
      if (right !== undefined) {
        this.unlinkFree(e, right);
        e = right;
      }
    }
    this.linkFree(s, e);
  }

  /** True when addr lies in an arena segment. */
  contains(addr: number): boolean {
    for (const s of this.segs) if (addr >= s.start && addr < s.start + s.size) return true;
    return false;
  }

  private grow(need: number): boolean {
    const seg = this.backing.grow(Math.max(need, this.growStep));
    if (!seg) return false;
    const start = Math.ceil(seg.start / GRAIN) * GRAIN;
    const end = Math.floor((seg.start + seg.size) / GRAIN) * GRAIN;
    if (end - start < need) return false;
    const s = { start: seg.start, size: seg.size };
    this.segs.push(s);
    this.segStarts.add(start);
    // Programs that allocate a lot get larger segments: fewer mappings, fewer boundaries.
    this.growStep = Math.min(this.growStep * 2, MAX_GROW_STEP);
    this.onGrow?.(s);
    // The old wilderness stays usable through the free lists.
    if (this.wildEnd > this.wildStart) this.linkFree(this.wildStart, this.wildEnd);
    this.wildStart = start;
    this.wildEnd = end;
    return true;
  }

  /** Start of a listed free extent of at least `need` bytes, if any. */
  private findListed(need: number): number | undefined {
    if (this.listedBytes < need) return undefined;
    const c = classOf(need);
    const exact = this.classes[c];
    if (exact.size > 0) {
      // Below 2 KiB a class holds one size; above, it may hold extents smaller than need.
      if (c < EXACT_CLASSES) return exact.values().next().value as number;
      let tries = 0;
      for (const s of exact) {
        if ((this.freeByStart.get(s) as number) - s >= need) return s;
        if (++tries >= 8) break;
      }
    }
    // Every extent of a higher class is larger than need.
    const next = this.nextNonEmpty(c + 1);
    if (next < 0) return undefined;
    return this.classes[next].values().next().value as number;
  }

  private nextNonEmpty(from: number): number {
    const words = this.nonEmpty;
    let w = from >>> 5;
    if (w >= words.length) return -1;
    let bits = words[w] & (~0 << (from & 31));
    for (;;) {
      if (bits !== 0) return (w << 5) + (31 - Math.clz32(bits & -bits));
      if (++w >= words.length) return -1;
      bits = words[w];
    }
  }

  private linkFree(start: number, end: number): void {
    if (end <= start) return;
    this.freeByStart.set(start, end);
    this.freeByEnd.set(end, start);
    const c = classOf(end - start);
    this.classes[c].add(start);
    this.nonEmpty[c >>> 5] |= 1 << (c & 31);
    this.listedBytes += end - start;
  }

  private unlinkFree(start: number, end: number): void {
    this.freeByStart.delete(start);
    this.freeByEnd.delete(end);
    const c = classOf(end - start);
    const set = this.classes[c];
    set.delete(start);
    if (set.size === 0) this.nonEmpty[c >>> 5] &= ~(1 << (c & 31));
    this.listedBytes -= end - start;
  }
}
