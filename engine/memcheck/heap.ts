/**
 * Memcheck's replacement heap for the guest: the malloc family, operator new/delete and the
 * client-described blocks (MALLOCLIKE_BLOCK) all land here.
 *
 * Blocks are laid out in the arena as Valgrind's client arena lays them out — an 8-byte header,
 * a redzone, the payload rounded up to 16 bytes, a redzone, an 8-byte trailer — with the redzone
 * rounded up so the payload stays 16-byte aligned (the default --redzone-size=16 becomes 24, as in
 * Valgrind, which is what "N bytes after a block" messages are measured against). Only the
 * payload ever becomes addressable; freed blocks wait no-access in the quarantine before their
 * memory is reused. Every state change is mirrored into the shadow memory.
 *
 * Lookups stay fast with 10^5–10^6 blocks: exact payload starts in a Map, "which block brackets
 * this address" through an interval index (1 KiB buckets plus a sorted list of big blocks).
 */
import { Arena, ArenaBacking, ArenaSegment } from './arena';
import { IntervalIndex } from './block-index';
import { Quarantine, releasedBefore } from './quarantine';
import type { ShadowMemory } from './shadow-memory';

/** How a block was allocated: memcheck's MC_AllocKind, with memalign kept apart for reports
 * (it belongs to the malloc family for mismatch checks). */
export type AllocKind = 'malloc' | 'new' | 'new[]' | 'memalign' | 'custom';

/** How the guest released a block. */
export type DeallocKind = 'free' | 'delete' | 'delete[]' | 'freelike';

/**
 * True when releasing a block of kind `alloc` with `dealloc` is a "Mismatched free() / delete /
 * delete []" (realloc counts as 'free').
 */
export function isMismatchedFree(alloc: AllocKind, dealloc: DeallocKind): boolean {
  const family = alloc === 'memalign' ? 'malloc' : alloc;
  const expected = dealloc === 'free' ? 'malloc' : dealloc === 'delete' ? 'new' : dealloc === 'delete[]' ? 'new[]' : 'custom';
  return family !== expected;
}

/**
 * A heap block. `C` is the caller's allocation/free context (an ExeContext id, a stack, …).
 * The first group of fields is the public record; the rest is bookkeeping of the indexes.
 */
export class Block<C> {
  /** Allocation order, unique per heap (also a stable tie-break for loss records). */
  readonly serial: number;
  freeCtx: C | undefined = undefined;
  freed = false;

  /** Indexed bracket [lo, hi): payload plus redzones on both sides. */
  lo = 0;
  hi = 0;
  /** Quarantine position (see Quarantine). */
  qSeq = 0;
  qBig = false;
  /** Arena extent reserved for the block; extStart < 0 for client-described blocks, whose
   * memory the heap does not own. */
  extStart = -1;
  extEnd = -1;

  constructor(
    /** Payload address. */
    public start: number,
    /** Requested size in bytes. */
    public size: number,
    readonly kind: AllocKind,
    /** Requested alignment (0 when none was asked for). */
    readonly align: number,
    readonly allocCtx: C,
    serial: number,
  ) {
    this.serial = serial;
  }

  /** True for client-described blocks (MALLOCLIKE_BLOCK, mempool chunks). */
  get custom(): boolean {
    return this.extStart < 0;
  }
}

/** Where an address lies relative to a heap block (memcheck's describe_addr, heap part). */
export interface HeapDescription<C> {
  block: Block<C>;
  /** addr - block.start (negative in the front redzone). */
  offset: number;
  state: 'live' | 'freed';
  /** A live block whose bracket also holds a queued freed block: Valgrind calls it a "recently
   * re-allocated block". */
  reallocated: boolean;
}

/** Outcome of a free. 'double' means the address is the start of a block still in the
 * quarantine; 'invalid' anything else (the caller reports "Invalid free()" in both cases, with
 * the address described). */
export type FreeResult<C> =
  | { ok: true; block: Block<C> }
  | { ok: false; reason: 'invalid' | 'double'; block?: Block<C> };

/** What the heap needs of guest memory. */
export interface HeapMemory extends ArenaBacking {
  /** Writes `len` copies of `byte` at guest addr (calloc zeroing, --malloc-fill, --free-fill). */
  fill(addr: number, len: number, byte: number): void;
}

/** Options, as Valgrind's command line spells them. */
export interface HeapOptions {
  /** --redzone-size (default 16; rounded up as Valgrind does, see Heap.redzone). */
  redzoneSize?: number;
  /** --alignment: minimum alignment of malloc (default 16). */
  alignment?: number;
  /** --freelist-vol (default 20,000,000). */
  freelistVol?: number;
  /** --freelist-big-blocks (default 1,000,000). */
  freelistBigBlocks?: number;
  /** --malloc-fill byte, if given. */
  mallocFill?: number;
  /** --free-fill byte, if given. */
  freeFill?: number;
  /** First arena growth step in bytes (default 1 MiB; doubles up to 64 MiB). */
  growStep?: number;
}

/** Header and trailer words of an arena block (Valgrind's size fields). */
const HDR = 8;
const GRAIN = 16;
/** Sizes beyond this cannot be real allocations (guest addresses are 47 bits). */
const MAX_SIZE = 2 ** 46;

/**
 * The redzone Valgrind really uses for --redzone-size=r: rounded up so that header plus redzone
 * keeps the payload 16-byte aligned (16 → 24, 0 → 8).
 */
export function effectiveRedzone(r: number): number {
  const rem = (HDR + r) % GRAIN;
  return rem === 0 ? r : r + GRAIN - rem;
}

const newer = <C>(a: Block<C>, b: Block<C>): boolean => a.serial > b.serial;

export class Heap<C> {
  /** Redzone on each side of a block, as used for layout and for address descriptions
   * (memcheck's MC_(Malloc_Redzone_SzB)). */
  readonly redzone: number;
  /** HEAP SUMMARY figures, as memcheck counts them. */
  inUseBytes = 0;
  inUseBlocks = 0;
  totalAllocs = 0;
  totalFrees = 0;
  totalBytesAllocated = 0;

  private readonly arena: Arena;
  private readonly quarantine: Quarantine<Block<C>>;
  private readonly alignment: number;
  private readonly mallocFill?: number;
  private readonly freeFill?: number;
  /** Live blocks by payload start. A second block at the same start (MALLOCLIKE on top of a
   * malloc'd superblock) shadows the first until it goes, as in memcheck's hash table. */
  private readonly live = new Map<number, Block<C>>();
  private readonly shadowed = new Map<number, Block<C>[]>();
  private readonly liveIndex = new IntervalIndex<Block<C>>();
  /** Queued freed blocks by start (latest wins), for double-free detection. */
  private readonly freedByStart = new Map<number, Block<C>>();
  private readonly freedIndex = new IntervalIndex<Block<C>>();
  private serial = 0;

  constructor(private readonly shadow: ShadowMemory, private readonly memory: HeapMemory, options: HeapOptions = {}) {
    this.redzone = effectiveRedzone(options.redzoneSize ?? 16);
    this.alignment = Math.max(GRAIN, options.alignment ?? GRAIN);
    this.mallocFill = options.mallocFill;
    this.freeFill = options.freeFill;
    this.quarantine = new Quarantine(options.freelistVol ?? 20_000_000, options.freelistBigBlocks ?? 1_000_000);
    // Fresh arena memory is no-access until a block's payload is handed out.
    this.arena = new Arena(memory, options.growStep ?? 1024 * 1024, (seg) => shadow.makeNoAccess(seg.start, seg.size));
  }

  // ---------------------------------------------------------------- allocation

  /**
   * Allocates a block of `size` bytes aligned to `align` (raised to --alignment; rounded up to a
   * power of two). The payload becomes undefined (filled with --malloc-fill if set), or zeroed
   * and defined when `zeroed` (calloc). Returns undefined when out of memory.
   */
  alloc(size: number, align: number, kind: AllocKind, allocCtx: C, zeroed = false): Block<C> | undefined {
    if (!(size >= 0) || size > MAX_SIZE) return undefined;
    const a = Math.max(this.alignment, 2 ** Math.ceil(Math.log2(Math.max(align, 1))));
    const rz = this.redzone;
    const total = 2 * (HDR + rz) + Math.ceil(size / GRAIN) * GRAIN;
    const ext = this.arena.take(total, a, HDR + rz);
    if (ext === undefined) return undefined;
    const p = ext + HDR + rz;
    const b = new Block<C>(p, size, kind, align, allocCtx, ++this.serial);
    b.extStart = ext;
    b.extEnd = ext + total;
    if (zeroed) {
      this.memory.fill(p, size, 0);
      this.shadow.makeDefined(p, size);
    } else {
      if (this.mallocFill !== undefined) this.memory.fill(p, size, this.mallocFill);
      this.shadow.makeUndefined(p, size);
    }
    this.addLive(b);
    this.noteAllocation(size);
    return b;
  }

  /**
   * Releases the live block starting at addr: payload and redzones become no-access, --free-fill
   * is applied (not to client-described blocks), and the block joins the quarantine. Counts a
   * free even when it fails, as memcheck does. `redzone` is the redzone to make no-access again
   * (FREELIKE_BLOCK passes its own). Do not call for free(NULL): the preload wrapper returns
   * before memcheck sees it.
   */
  free(addr: number, freeCtx: C, redzone = this.redzone): FreeResult<C> {
    this.totalFrees++;
    const b = this.live.get(addr);
    if (!b) {
      const q = this.freedByStart.get(addr);
      return q ? { ok: false, reason: 'double', block: q } : { ok: false, reason: 'invalid' };
    }
    this.removeLive(b);
    this.retire(b, freeCtx, redzone);
    return { ok: true, block: b };
  }

  /** What malloc_usable_size reports: the requested size of the live block at addr, else 0. */
  usableSize(addr: number): number {
    return this.live.get(addr)?.size ?? 0;
  }

  // ---------------------------------------------------------------- lookups

  /** The live block whose payload starts exactly at addr. */
  findLive(addr: number): Block<C> | undefined {
    return this.live.get(addr);
  }

  /**
   * The heap block an address belongs to, as memcheck's describe_addr finds it: a live block
   * whose payload or redzones contain addr first (newest wins if several do), else the queued
   * freed block that leaves the quarantine first among those that bracket addr.
   */
  describe(addr: number): HeapDescription<C> | undefined {
    const b = this.liveIndex.find(addr, newer);
    if (b) {
      return { block: b, offset: addr - b.start, state: 'live', reallocated: this.freedIndex.find(addr) !== undefined };
    }
    const f = this.freedIndex.find(addr, releasedBefore);
    if (f) return { block: f, offset: addr - f.start, state: 'freed', reallocated: false };
    return undefined;
  }

  /** All live blocks (malloc'd and MALLOCLIKE), for the leak check and the HEAP SUMMARY. */
  *liveBlocks(): IterableIterator<Block<C>> {
    yield* this.live.values();
    for (const list of this.shadowed.values()) yield* list;
  }

  /** Queued freed blocks in release order. */
  freedBlocks(): IterableIterator<Block<C>> {
    return this.quarantine[Symbol.iterator]();
  }

  /** Bytes and blocks waiting in the quarantine. */
  get quarantined(): { bytes: number; blocks: number } {
    return { bytes: this.quarantine.queuedBytes, blocks: this.quarantine.length };
  }

  /** Arena segments: guest memory that is heap, not a leak-check root. */
  arenaSegments(): readonly ArenaSegment[] {
    return this.arena.segments();
  }

  /** Arena bytes mapped and free (benchmark figures). */
  get arenaStats(): { mapped: number; free: number } {
    return { mapped: this.arena.mappedBytes, free: this.arena.free };
  }

  // ---------------------------------------------------------------- client-described blocks

  /**
   * Registers a block the guest manages itself (MALLOCLIKE_BLOCK): it becomes a live 'custom'
   * block (in the HEAP SUMMARY, the leak check and address descriptions); its payload becomes
   * undefined, or defined when `zeroed`, and `redzone` bytes on each side no-access.
   */
  registerCustom(addr: number, size: number, allocCtx: C, zeroed: boolean, redzone: number): Block<C> {
    const b = this.customBlock(addr, size, allocCtx, zeroed, redzone);
    this.addLive(b);
    this.noteAllocation(size);
    return b;
  }

  /**
   * A client-described block not tracked as live by the heap (a mempool chunk): same shadow
   * effects as registerCustom, counted in "total heap usage" (memcheck counts mempool
   * allocations there) but not "in use".
   */
  customBlock(addr: number, size: number, allocCtx: C, zeroed: boolean, redzone: number): Block<C> {
    const b = new Block<C>(addr, size, 'custom', 0, allocCtx, ++this.serial);
    if (zeroed) this.shadow.makeDefined(addr, size);
    else this.shadow.makeUndefined(addr, size);
    if (redzone > 0) {
      this.shadow.makeNoAccess(addr - redzone, redzone);
      this.shadow.makeNoAccess(addr + size, redzone);
    }
    return b;
  }

  /** Counts an allocation made outside alloc/registerCustom (mempool chunks) and lets the
   * quarantine shrink, as every memcheck block creation does. */
  noteAllocation(size: number): void {
    this.totalAllocs++;
    this.totalBytesAllocated += size;
    // memcheck releases after the new block exists, so it never gets the memory just freed.
    if (this.quarantine.overfull) this.quarantine.release((x) => this.drop(x));
  }

  /**
   * RESIZEINPLACE_BLOCK: changes the size of the live block at addr from oldSize to newSize.
   * Fails (the caller reports an invalid free) when there is no such block, oldSize is wrong or
   * newSize is 0. A shrunk tail becomes no-access, a grown one undefined, followed by `redzone`
   * no-access bytes.
   */
  resizeInPlace(addr: number, oldSize: number, newSize: number, redzone: number): boolean {
    const b = this.live.get(addr);
    if (!b || b.size !== oldSize || newSize === 0) return false;
    if (oldSize === newSize) return true;
    this.liveIndex.remove(b);
    b.size = newSize;
    this.setBracket(b);
    this.liveIndex.insert(b);
    this.inUseBytes += newSize - oldSize;
    if (newSize < oldSize) {
      this.shadow.makeNoAccess(addr + newSize, oldSize - newSize + redzone);
    } else {
      this.shadow.makeUndefined(addr + oldSize, newSize - oldSize);
      if (redzone > 0) this.shadow.makeNoAccess(addr + newSize, redzone);
    }
    return true;
  }

  /**
   * Frees, without counting frees, every live block lying wholly inside [lo, hi): the auto-free
   * of a MEMPOOL_FREE in a pool created with VALGRIND_MEMPOOL_AUTO_FREE. Returns them.
   */
  freeWithin(lo: number, hi: number, freeCtx: C, redzone: number): Block<C>[] {
    const found = new Set<Block<C>>();
    const take = (b: Block<C>) => { if (b.start >= lo && b.start + b.size <= hi) found.add(b); };
    // Walk the index for a small range, all live blocks for a huge one. (Every bracket is
    // non-empty: the effective redzone is at least 8, so every live block is indexed.)
    if (IntervalIndex.bucketsIn(lo, hi) < this.inUseBlocks) this.liveIndex.forEachIntersecting(lo, hi, take);
    else for (const b of this.liveBlocks()) take(b);
    for (const b of found) {
      this.removeLive(b);
      this.retire(b, freeCtx, redzone);
    }
    return [...found];
  }

  /**
   * memcheck's die_and_free_mem for a block already out of the live table: --free-fill (arena
   * blocks only), payload and redzones no-access, free context recorded, queued.
   */
  retire(b: Block<C>, freeCtx: C, redzone: number): void {
    if (this.freeFill !== undefined && !b.custom) this.memory.fill(b.start, b.size, this.freeFill);
    this.shadow.makeNoAccess(b.start - redzone, b.size + 2 * redzone);
    b.freeCtx = freeCtx;
    b.freed = true;
    this.setBracket(b);
    this.freedIndex.insert(b);
    this.freedByStart.set(b.start, b);
    this.quarantine.add(b);
  }

  // ---------------------------------------------------------------- internals

  private setBracket(b: Block<C>): void {
    b.lo = b.start - this.redzone;
    b.hi = b.start + b.size + this.redzone;
  }

  private addLive(b: Block<C>): void {
    const prev = this.live.get(b.start);
    if (prev) {
      const list = this.shadowed.get(b.start);
      if (list) list.push(prev);
      else this.shadowed.set(b.start, [prev]);
    }
    this.live.set(b.start, b);
    this.setBracket(b);
    this.liveIndex.insert(b);
    this.inUseBytes += b.size;
    this.inUseBlocks++;
  }

  private removeLive(b: Block<C>): void {
    if (this.live.get(b.start) === b) {
      const list = this.shadowed.get(b.start);
      if (list) {
        this.live.set(b.start, list.pop() as Block<C>);
        if (list.length === 0) this.shadowed.delete(b.start);
      } else this.live.delete(b.start);
    } else {
      const list = this.shadowed.get(b.start);
      const i = list ? list.indexOf(b) : -1;
      if (!list || i < 0) return;
      list.splice(i, 1);
      if (list.length === 0) this.shadowed.delete(b.start);
    }
    this.liveIndex.remove(b);
    this.inUseBytes -= b.size;
    this.inUseBlocks--;
  }

  /** A block leaves the quarantine: its arena memory becomes reusable. */
  private drop(b: Block<C>): void {
    this.freedIndex.remove(b);
    if (this.freedByStart.get(b.start) === b) this.freedByStart.delete(b.start);
    if (!b.custom) this.arena.release(b.extStart, b.extEnd);
  }
}
