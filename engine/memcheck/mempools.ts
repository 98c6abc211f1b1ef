/**
 * Client-described allocators: memcheck's memory pools (CREATE_MEMPOOL … DESTROY_MEMPOOL) and
 * the MALLOCLIKE / FREELIKE / RESIZEINPLACE_BLOCK requests. Pool chunks are 'custom' heap blocks
 * kept per pool; freed chunks join the heap's quarantine, so address descriptions and the leak
 * check see them like malloc'd blocks. Misuse is reported as values, never thrown: the caller
 * turns them into memcheck's errors (InvalidMemPool "Illegal memory pool address", InvalidFree)
 * or, for the two requests memcheck panics on, a fatal message.
 */
import { IntervalIndex } from './block-index';
import type { Block, FreeResult, Heap } from './heap';
import type { ShadowMemory } from './shadow-memory';

/** CREATE_MEMPOOL_EXT flags. */
export interface MempoolFlags {
  /** VALGRIND_MEMPOOL_AUTO_FREE: freeing a chunk frees the malloc'd blocks inside it. */
  autoFree?: boolean;
  /** VALGRIND_MEMPOOL_METAPOOL: chunks overlap blocks handed to the program (described last). */
  metapool?: boolean;
}

/** Why a pool request failed. */
export type MempoolFailure =
  /** No pool at that address: memcheck's InvalidMemPool error ("Illegal memory pool address"). */
  | { ok: false; error: 'illegal-mempool'; pool: number }
  /** No chunk at that address: memcheck's InvalidFree error on addr. */
  | { ok: false; error: 'invalid-free'; addr: number }
  /** CREATE_MEMPOOL of an existing pool, or MOVE_MEMPOOL onto one: memcheck panics. */
  | { ok: false; error: 'duplicate-pool'; pool: number }
  /** An auto-free pool that is not a metapool: memcheck panics ("Inappropriate use of mempool"). */
  | { ok: false; error: 'autofree-needs-metapool'; pool: number };

/** Result of a pool request. */
export type MempoolResult = { ok: true } | MempoolFailure;

/** A pool chunk that brackets an address. */
export interface PoolChunkDescription<C> {
  block: Block<C>;
  offset: number;
  pool: number;
}

/** One memory pool. */
interface Pool<C> {
  pool: number;
  rzB: number;
  zeroed: boolean;
  autoFree: boolean;
  metapool: boolean;
  chunks: Map<number, Block<C>>;
}

const OK: MempoolResult = { ok: true };

export class Mempools<C> {
  private readonly pools = new Map<number, Pool<C>>();
  /** Chunks of ordinary pools and of metapools, bracketed with their pool's redzone. */
  private readonly plainIndex = new IntervalIndex<Block<C>>();
  private readonly metaIndex = new IntervalIndex<Block<C>>();

  constructor(private readonly heap: Heap<C>, private readonly shadow: ShadowMemory) {}

  /** CREATE_MEMPOOL / CREATE_MEMPOOL_EXT. */
  create(pool: number, rzB: number, zeroed: boolean, flags: MempoolFlags = {}): MempoolResult {
    const autoFree = flags.autoFree ?? false;
    const metapool = flags.metapool ?? false;
    if (autoFree && !metapool) return { ok: false, error: 'autofree-needs-metapool', pool };
    if (this.pools.has(pool)) return { ok: false, error: 'duplicate-pool', pool };
    this.pools.set(pool, { pool, rzB, zeroed, autoFree, metapool, chunks: new Map() });
    return OK;
  }

  /** DESTROY_MEMPOOL: chunks and their redzones become no-access and are forgotten (they do
   * not go to the freed-block queue). */
  destroy(pool: number): MempoolResult {
    const p = this.pools.get(pool);
    if (!p) return { ok: false, error: 'illegal-mempool', pool };
    for (const c of p.chunks.values()) {
      this.shadow.makeNoAccess(c.start - p.rzB, c.size + 2 * p.rzB);
      this.indexOf(p).remove(c);
    }
    this.pools.delete(pool);
    return OK;
  }

  /** MEMPOOL_ALLOC: addr..addr+size becomes a chunk (undefined, or defined for a zeroed pool),
   * with the pool's redzones no-access. */
  alloc(pool: number, addr: number, size: number, allocCtx: C): MempoolResult {
    const p = this.pools.get(pool);
    if (!p) return { ok: false, error: 'illegal-mempool', pool };
    const b = this.heap.customBlock(addr, size, allocCtx, p.zeroed, p.rzB);
    this.heap.noteAllocation(size);
    // memcheck's table would hold both; a chunk allocated twice at one address is a client bug,
    // and the newer one is what later requests mean.
    const old = p.chunks.get(addr);
    if (old) this.indexOf(p).remove(old);
    p.chunks.set(addr, b);
    this.bracket(p, b);
    this.indexOf(p).insert(b);
    return OK;
  }

  /** MEMPOOL_FREE: the chunk at addr is freed into the quarantine (after the malloc'd blocks
   * inside it, for an auto-free pool). */
  free(pool: number, addr: number, freeCtx: C): MempoolResult {
    const p = this.pools.get(pool);
    if (!p) return { ok: false, error: 'illegal-mempool', pool };
    const c = p.chunks.get(addr);
    if (!c) return { ok: false, error: 'invalid-free', addr };
    this.unlink(p, c);
    if (p.autoFree) this.heap.freeWithin(c.start, c.start + c.size, freeCtx, p.rzB);
    this.heap.retire(c, freeCtx, p.rzB);
    return OK;
  }

  /**
   * MEMPOOL_TRIM: keeps the chunks inside [addr, addr+size), frees those with neither end inside
   * it, and cuts the ones straddling an edge down to their part inside (the cut-off bytes become
   * no-access). memcheck 3.19 miscomputes the new end of a chunk that starts before addr (it
   * uses the trim size for the chunk's); this is the intended intersection.
   */
  trim(pool: number, addr: number, size: number, freeCtx: C): MempoolResult {
    const p = this.pools.get(pool);
    if (!p) return { ok: false, error: 'illegal-mempool', pool };
    const inside = (x: number) => addr <= x && x < addr + size;
    for (const c of [...p.chunks.values()]) {
      const first = c.start;
      const last = c.size === 0 ? c.start : c.start + c.size - 1;
      if (inside(first) && inside(last)) continue;
      if (!inside(first) && !inside(last)) {
        this.unlink(p, c);
        this.heap.retire(c, freeCtx, p.rzB);
        continue;
      }
      const lo = Math.max(c.start, addr);
      const hi = Math.min(c.start + c.size, addr + size);
      if (lo > c.start) this.shadow.makeNoAccess(c.start, lo - c.start);
      if (hi < c.start + c.size) this.shadow.makeNoAccess(hi, c.start + c.size - hi);
      this.unlink(p, c);
      c.start = lo;
      c.size = hi - lo;
      p.chunks.set(c.start, c);
      this.bracket(p, c);
      this.indexOf(p).insert(c);
    }
    return OK;
  }

  /** MOVE_MEMPOOL: the pool's anchor address changes from poolA to poolB. */
  move(poolA: number, poolB: number): MempoolResult {
    const p = this.pools.get(poolA);
    if (!p) return { ok: false, error: 'illegal-mempool', pool: poolA };
    if (poolA === poolB) return OK;
    if (this.pools.has(poolB)) return { ok: false, error: 'duplicate-pool', pool: poolB };
    this.pools.delete(poolA);
    p.pool = poolB;
    this.pools.set(poolB, p);
    return OK;
  }

  /** MEMPOOL_CHANGE: the chunk at addrA now lives at addrB with the given size (its shadow state
   * is the client's business, as in memcheck). */
  change(pool: number, addrA: number, addrB: number, size: number): MempoolResult {
    const p = this.pools.get(pool);
    if (!p) return { ok: false, error: 'illegal-mempool', pool };
    const c = p.chunks.get(addrA);
    if (!c) return { ok: false, error: 'invalid-free', addr: addrA };
    this.unlink(p, c);
    c.start = addrB;
    c.size = size;
    p.chunks.set(addrB, c);
    this.bracket(p, c);
    this.indexOf(p).insert(c);
    return OK;
  }

  /** MEMPOOL_EXISTS. */
  exists(pool: number): boolean {
    return this.pools.has(pool);
  }

  /** MALLOCLIKE_BLOCK: a live custom block in the heap's table. */
  mallocLike(addr: number, size: number, rzB: number, zeroed: boolean, allocCtx: C): Block<C> {
    return this.heap.registerCustom(addr, size, allocCtx, zeroed, rzB);
  }

  /**
   * FREELIKE_BLOCK: frees the live block at addr like free() does, with the given redzone. The
   * caller reports an invalid free on failure, and a mismatched free when the block found is
   * not 'custom' (isMismatchedFree(block.kind, 'freelike')).
   */
  freeLike(addr: number, rzB: number, freeCtx: C): FreeResult<C> {
    return this.heap.free(addr, freeCtx, rzB);
  }

  /** RESIZEINPLACE_BLOCK; failure is reported by memcheck as an invalid free of addr. */
  resizeInPlace(addr: number, oldSize: number, newSize: number, rzB: number): MempoolResult {
    return this.heap.resizeInPlace(addr, oldSize, newSize, rzB) ? OK : { ok: false, error: 'invalid-free', addr };
  }

  /**
   * The live chunk of an ordinary pool (metapool = false) or of a metapool (true) whose payload
   * or pool redzones contain addr. memcheck asks ordinary pools before the heap and metapools
   * after it.
   */
  describe(addr: number, metapool: boolean): PoolChunkDescription<C> | undefined {
    const b = (metapool ? this.metaIndex : this.plainIndex).find(addr);
    if (!b) return undefined;
    for (const p of this.pools.values()) {
      if (p.metapool === metapool && p.chunks.get(b.start) === b) return { block: b, offset: addr - b.start, pool: p.pool };
    }
    return undefined;
  }

  /** Every live pool chunk, for the leak check. */
  *chunks(): IterableIterator<Block<C>> {
    for (const p of this.pools.values()) yield* p.chunks.values();
  }

  private indexOf(p: Pool<C>): IntervalIndex<Block<C>> {
    return p.metapool ? this.metaIndex : this.plainIndex;
  }

  private bracket(p: Pool<C>, b: Block<C>): void {
    b.lo = b.start - p.rzB;
    b.hi = b.start + b.size + p.rzB;
  }

  private unlink(p: Pool<C>, c: Block<C>): void {
    if (p.chunks.get(c.start) === c) p.chunks.delete(c.start);
    this.indexOf(p).remove(c);
  }
}
