/**
 * Memcheck's leak search (mc_leakcheck.c's algorithm), independent of the engine.
 *
 * Heap blocks are graph nodes; the roots are non-heap guest memory and the registers. Every
 * aligned 8-byte word that is addressable and defined is a potential pointer: to a block's start
 * (a start-pointer) or inside it (an interior-pointer). Marking from the roots makes a block
 * Reachable when a chain of start-pointers leads to it, Possible when the chain needs an
 * interior-pointer — unless a heuristic (std::string, length64, new[], multiple inheritance)
 * recognises the interior-pointer as a legitimate one. Blocks left Unreached are then grouped in
 * "cliques": each unreached block, taken in address order, claims the still-unreached blocks it
 * leads to as indirectly lost and becomes definitely lost, carrying their bytes as its indirect
 * size (a former leader claimed later hands its indirect bytes over).
 *
 * Pointer lookup is a binary search over the blocks sorted by address, after a range filter; root
 * memory is read zero-copy through views and skipped 64 KiB at a time where the shadow memory
 * says no word can be valid.
 */
import type { ErrorFrame, LeakState } from '../errors/error-record';
import { LEAK_STATES } from '../errors/error-record';
import type { LeakSummary, LeakTotals, LossRecordInput } from '../errors/leak-report';

/** --leak-check-heuristics members. */
export type LeakHeuristic = 'stdstring' | 'length64' | 'newarray' | 'multipleinheritance';

/** The heuristics in memcheck's order (the order they are tried and summarised in). */
export const LEAK_HEURISTICS: readonly LeakHeuristic[] = ['stdstring', 'length64', 'newarray', 'multipleinheritance'];

/**
 * Parses a --leak-check-heuristics value: a comma list of heuristics, or 'all' or 'none'.
 * Returns undefined for an unknown word.
 */
export function parseLeakHeuristics(value: string): Set<LeakHeuristic> | undefined {
  if (value === 'all') return new Set(LEAK_HEURISTICS);
  if (value === 'none') return new Set();
  const out = new Set<LeakHeuristic>();
  for (const w of value.split(',')) {
    if (!(LEAK_HEURISTICS as readonly string[]).includes(w)) return undefined;
    out.add(w as LeakHeuristic);
  }
  return out;
}

/** A heap block as the leak search sees it. */
export interface LeakBlock<C> {
  readonly start: number;
  readonly size: number;
  /** Allocation context, opaque here (loss records are grouped by a key of it). */
  readonly ctx: C;
  /** memcheck's MC_AllocCustom: MALLOCLIKE blocks and mempool chunks. */
  readonly custom?: boolean;
  /** Allocation order: ties between equal loss records go to the older context. */
  readonly serial?: number;
}

/** A root range [start, end) lying inside one guest mapping. */
export interface RootRange {
  start: number;
  end: number;
}

/** Zero-copy access to guest memory. */
export interface ScanMemory {
  /** The bytes of [start, start+len), or undefined when not mapped as one piece. */
  view(start: number, len: number): Uint8Array | undefined;
  /**
   * Optional: the whole mapping containing addr, as its start and bytes. With it the search
   * asks once per mapping instead of once per block (GuestMemory: find(addr) and its chunk).
   */
  mappingAt?(addr: number): { start: number; bytes: Uint8Array } | undefined;
}

/** What the search needs of the shadow memory (ShadowMemory provides it). */
export interface ScanShadow {
  /** For aligned words of [start, start+len): 0 none valid, 1 all valid, 2 ask each word. */
  wordValidity(start: number, len: number): 0 | 1 | 2;
  /** The aligned word at addr is addressable and fully defined. */
  isValidAlignedWord(addr: number): boolean;
  /** Optional bulk form: out[i] = 1 when the word at start + 8i is valid (start, len multiples
   * of 8). */
  validWordMask?(start: number, len: number, out: Uint8Array): void;
}

/** Inputs of a leak search. */
export interface LeakSearchInput<C> {
  /** Live malloc'd and MALLOCLIKE blocks. */
  blocks: Iterable<LeakBlock<C>>;
  /** Live mempool chunks (custom); a malloc'd block holding one is left out, as in memcheck. */
  poolChunks?: Iterable<LeakBlock<C>>;
  /** Root memory: readable and writable client mappings, excluding the heap arena and device
   * mappings (memcheck's root set). */
  roots: readonly RootRange[];
  /** General-purpose register values of all threads. */
  registers?: readonly number[];
  memory: ScanMemory;
  shadow: ScanShadow;
  /** --leak-check-heuristics (default: all). */
  heuristics?: ReadonlySet<LeakHeuristic>;
  /** Whether an address looks like a vtable (multipleinheritance); see vtableDetector. Without
   * it that heuristic never matches. */
  isVtable?: (addr: number) => boolean;
}

/** Outcome of a leak search. */
export interface LeakSearchResult<C> {
  /** The blocks searched, in address order (after memcheck's pool/MALLOCLIKE filtering). */
  blocks: readonly LeakBlock<C>[];
  /** State of each block. */
  states: readonly LeakState[];
  /** Heuristic that made each block reachable (memcheck keeps it on Possible blocks too). */
  heuristics: readonly (LeakHeuristic | undefined)[];
  /** Indirectly lost bytes hanging off each definitely lost block (clique size). */
  indirectBytes: readonly number[];
  /** Bytes and blocks per state, before suppressions. */
  totals: Record<LeakState, LeakTotals>;
  /** "of which reachable via heuristic" figures, in LEAK_HEURISTICS order. */
  heuristicTotals: LeakSummary['heuristics'];
  /** Bytes of valid words scanned in roots and blocks (memcheck's "Checked N bytes"). */
  scannedBytes: number;
  /** Block pairs that overlap nonsensically (memcheck aborts; here they are kept and listed). */
  overlaps: { a: LeakBlock<C>; b: LeakBlock<C> }[];
}

// Reachedness, memcheck's internal states.
const UNREACHED = 0;
const INDIRECT = 1;
const POSSIBLE = 2;
const REACHABLE = 3;
const STATE_NAMES: readonly LeakState[] = ['definite', 'indirect', 'possible', 'reachable'];

const WORD = 8;
/** Root memory is judged in shadow-chunk pieces, and read page by page when a piece has no
 * single view. */
const PIECE = 65536;
const PAGE = 4096;
const TWO32 = 4294967296;

/**
 * memcheck's find_active_chunks plus its overlap rule: every pool chunk, every malloc'd block
 * that holds neither end of a pool chunk; then a custom block lying wholly inside a non-custom
 * one hides the latter. Returns the blocks sorted by address and the overlaps left over.
 */
export function activeBlocks<C>(blocks: Iterable<LeakBlock<C>>, poolChunks: Iterable<LeakBlock<C>> = []): {
  blocks: LeakBlock<C>[];
  overlaps: { a: LeakBlock<C>; b: LeakBlock<C> }[];
} {
  const mallocs = sortedByStart([...blocks]);
  const chunks = [...poolChunks];
  const holds = new Uint8Array(mallocs.length);
  if (chunks.length > 0) {
    const starts = Float64Array.from(mallocs, (b) => b.start);
    const ends = Float64Array.from(mallocs, (b) => b.start + Math.max(b.size, 1));
    for (const c of chunks) {
      const m = findIn(starts, ends, c.start);
      if (m >= 0) holds[m] = 1;
      if (c.size > 1) {
        const e = findIn(starts, ends, c.start + c.size - 1);
        if (e >= 0) holds[e] = 1;
      }
    }
  }
  const all = chunks.length === 0 ? mallocs : sortedByStart(chunks.concat(mallocs.filter((_, i) => holds[i] === 0)));
  const overlaps: { a: LeakBlock<C>; b: LeakBlock<C> }[] = [];
  for (let i = 0; i < all.length - 1; i++) {
    const b1 = all[i];
    const b2 = all[i + 1];
    const end1 = b1.start + b1.size - 1;
    const end2 = b2.start + b2.size - 1;
    if (end1 < b2.start) continue;
    if (b1.start >= b2.start && end1 <= end2 && b1.custom && !b2.custom) all.splice(i + 1, 1);
    else if (b2.start >= b1.start && end2 <= end1 && b2.custom && !b1.custom) all.splice(i, 1);
    else overlaps.push({ a: b1, b: b2 });
  }
  return { blocks: all, overlaps };
}

/** Sorts blocks by address in place (skipping the sort when they already are, as a heap's
 * blocks mostly are). */
function sortedByStart<T extends { start: number }>(xs: T[]): T[] {
  for (let i = 1; i < xs.length; i++) {
    if (xs[i - 1].start > xs[i].start) return xs.sort((x, y) => x.start - y.start);
  }
  return xs;
}

/** Index of the block whose [start, end) holds ptr in sorted, non-overlapping arrays, or -1. */
function findIn(starts: Float64Array, ends: Float64Array, ptr: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (ptr < starts[mid]) hi = mid - 1;
    else if (ptr >= ends[mid]) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/** Runs a leak search. */
export function searchLeaks<C>(input: LeakSearchInput<C>): LeakSearchResult<C> {
  const { blocks, overlaps } = activeBlocks(input.blocks, input.poolChunks ?? []);
  const s = new Search(blocks, input);
  s.run(input.roots, input.registers ?? []);
  return s.result(overlaps);
}

/** The marking machinery; one instance per search. */
class Search<C> {
  private readonly n: number;
  private readonly starts: Float64Array;
  /** start + size, with zero-sized blocks counted as one byte so a pointer to them is seen. */
  private readonly ends: Float64Array;
  private readonly sizes: Float64Array;
  private readonly state: Uint8Array;
  private readonly pending: Uint8Array;
  /** 1 + index in LEAK_HEURISTICS, 0 for none. */
  private readonly heur: Uint8Array;
  private readonly indirect: Float64Array;
  private readonly stack: Int32Array;
  private top = -1;
  private readonly lowest: number;
  private readonly highest: number;
  private readonly memory: ScanMemory;
  private readonly shadow: ScanShadow;
  private readonly heuristics: ReadonlySet<LeakHeuristic>;
  private readonly isVtable?: (addr: number) => boolean;
  private scanned = 0;
  private mask = new Uint8Array(0);
  private readonly wordViews = new WeakMap<ArrayBufferLike, Uint32Array>();
  private lastBuffer: ArrayBufferLike | undefined;
  private lastWords: Uint32Array | undefined;
  /** Cached view: guest [viewStart, viewEnd) is viewBytes. */
  private viewStart = 0;
  private viewEnd = 0;
  private viewBytes: Uint8Array | undefined;
  /** Mappings learnt from memory.mappingAt, sorted by start. */
  private readonly mappings: { start: number; end: number; bytes: Uint8Array }[] = [];
  /** 64 KiB pieces whose whole view the memory refused (not asked again). */
  private readonly failedPieces = new Set<number>();

  constructor(private readonly blocks: readonly LeakBlock<C>[], input: LeakSearchInput<C>) {
    const n = (this.n = blocks.length);
    this.starts = new Float64Array(n);
    this.ends = new Float64Array(n);
    this.sizes = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const b = blocks[i];
      this.starts[i] = b.start;
      this.sizes[i] = b.size;
      this.ends[i] = b.start + Math.max(b.size, 1);
    }
    this.state = new Uint8Array(n);
    this.pending = new Uint8Array(n);
    this.heur = new Uint8Array(n);
    this.indirect = new Float64Array(n);
    this.stack = new Int32Array(n);
    let hi = 0;
    for (let i = 0; i < n; i++) if (this.ends[i] > hi) hi = this.ends[i];
    this.lowest = n > 0 ? this.starts[0] : 0;
    this.highest = hi;
    this.memory = input.memory;
    this.shadow = input.shadow;
    this.heuristics = input.heuristics ?? new Set(LEAK_HEURISTICS);
    this.isVtable = input.isVtable;
  }

  /** Marks from the roots and registers, then gathers the cliques of what was not reached. */
  run(roots: readonly RootRange[], registers: readonly number[]): void {
    if (this.n === 0) return;
    for (const r of roots) this.scanRange(r.start, r.end - r.start, true, -1);
    for (const v of registers) this.push(v, true, -1);
    this.process(-1);
    // Whatever is still unreached leads a clique of the unreached blocks it points to.
    for (let i = 0; i < this.n; i++) {
      if (this.state[i] !== UNREACHED) continue;
      this.pushStack(i);
      this.process(i);
    }
  }

  /** The per-block outcome and the summary figures. */
  result(overlaps: { a: LeakBlock<C>; b: LeakBlock<C> }[]): LeakSearchResult<C> {
    const n = this.n;
    // Sums by internal state number first; named objects only at the end.
    const bytes = [0, 0, 0, 0];
    const count = [0, 0, 0, 0];
    const hBytes = [0, 0, 0, 0];
    const hCount = [0, 0, 0, 0];
    const states: LeakState[] = new Array(n);
    const heuristics: (LeakHeuristic | undefined)[] = new Array(n);
    const indirectBytes: number[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const st = this.state[i];
      const size = this.sizes[i];
      states[i] = STATE_NAMES[st];
      bytes[st] += size;
      count[st]++;
      const h = this.heur[i];
      if (h !== 0) {
        heuristics[i] = LEAK_HEURISTICS[h - 1];
        hBytes[h - 1] += size;
        hCount[h - 1]++;
      } else heuristics[i] = undefined;
      indirectBytes[i] = st === UNREACHED ? this.indirect[i] : 0;
    }
    const t = (st: number): LeakTotals => ({ bytes: bytes[st], blocks: count[st] });
    return {
      blocks: this.blocks,
      states,
      heuristics,
      indirectBytes,
      totals: { definite: t(UNREACHED), indirect: t(INDIRECT), possible: t(POSSIBLE), reachable: t(REACHABLE) },
      heuristicTotals: LEAK_HEURISTICS.map((name, k) => ({ name, bytes: hBytes[k], blocks: hCount[k] })),
      scannedBytes: this.scanned,
      overlaps,
    };
  }

  private pushStack(i: number): void {
    if (this.pending[i]) return;
    this.pending[i] = 1;
    this.stack[++this.top] = i;
  }

  private process(clique: number): void {
    while (this.top >= 0) {
      const i = this.stack[this.top--];
      this.pending[i] = 0;
      // A block reached only through an interior-pointer passes on only "possibly".
      const priorDefinite = this.state[i] !== POSSIBLE;
      this.scanRange(this.starts[i], this.sizes[i], priorDefinite, clique);
    }
  }

  private find(ptr: number): number {
    return findIn(this.starts, this.ends, ptr);
  }

  /** Considers ptr, found in a root (clique -1) or in a block being scanned. */
  private push(ptr: number, priorDefinite: boolean, clique: number): void {
    if (ptr < this.lowest || ptr >= this.highest) return;
    const j = this.find(ptr);
    if (j < 0) return;
    const state = this.state;
    if (clique !== -1) {
      // Gathering a clique: an unreached block (not the leader itself, reached again through a
      // cycle) becomes indirectly lost, and the leader takes its bytes and those it carried.
      if (state[j] === UNREACHED && j !== clique) {
        this.pushStack(j);
        this.indirect[clique] += this.sizes[j] + this.indirect[j];
        state[j] = INDIRECT;
      }
      return;
    }
    const st = state[j];
    if (st === REACHABLE) {
      // A start-pointer makes a heuristic unnecessary after all.
      if (this.heur[j] !== 0 && ptr === this.starts[j]) this.heur[j] = 0;
      return;
    }
    let viaStart: boolean;
    if (ptr === this.starts[j]) viaStart = true;
    else if (this.heuristics.size > 0) {
      const h = this.heuristicFor(ptr, j);
      this.heur[j] = h;
      viaStart = h !== 0;
    } else viaStart = false;
    if (viaStart && priorDefinite) {
      state[j] = REACHABLE;
      this.pushStack(j); // (re)scan so what it points to is upgraded too
    } else if (st === UNREACHED) {
      state[j] = POSSIBLE;
      this.pushStack(j);
    }
  }

  /** The heuristic (1 + index) accepting interior-pointer ptr into block j, or 0. */
  private heuristicFor(ptr: number, j: number): number {
    const start = this.starts[j];
    const size = this.sizes[j];
    const hs = this.heuristics;
    if (hs.has('stdstring') && ptr === start + 3 * WORD) {
      // libstdc++'s reference-counted string: length, capacity, refcount, then the characters
      // the std::string points at. The refcount may be a narrower, partly undefined field.
      const capacity = this.validWord(start + WORD);
      if (capacity !== undefined && 3 * WORD + capacity + 1 === size) {
        const length = this.validWord(start);
        if (length !== undefined && length <= capacity) return 1;
      }
    }
    if (hs.has('length64') && ptr === start + WORD) {
      // A 64-bit length of the rest of the block in front of the data (sqlite).
      const len = this.validWord(start);
      if (len !== undefined && len > 0 && size - WORD === len) return 2;
    }
    if (hs.has('newarray') && ptr === start + WORD) {
      // new[] of objects with a destructor: the element count precedes the array.
      const count = this.validWord(start);
      if (count !== undefined && count > 0 && (size - WORD) % count === 0) return 3;
    }
    if (hs.has('multipleinheritance') && ptr % WORD === 0 && this.isVtable) {
      // A pointer to a secondary base: both it and the block start hold vtable pointers.
      const inner = this.validWord(ptr);
      if (inner !== undefined && inner % WORD === 0 && inner >= PAGE) {
        const first = this.validWord(start);
        if (first !== undefined && first % WORD === 0 && first >= PAGE && this.isVtable(inner) && this.isVtable(first)) return 4;
      }
    }
    return 0;
  }

  /** The aligned word at addr if it is addressable and defined. */
  private validWord(addr: number): number | undefined {
    if (!this.shadow.isValidAlignedWord(addr)) return undefined;
    if (!this.cover(addr, addr + WORD)) return undefined;
    return readWord(this.viewBytes as Uint8Array, addr - this.viewStart);
  }

  /** Scans the aligned words of [start, start+len) for pointers. */
  private scanRange(start: number, len: number, priorDefinite: boolean, clique: number): void {
    let a = Math.ceil(start / WORD) * WORD;
    const end = Math.floor((start + len) / WORD) * WORD;
    while (a < end) {
      const pieceEnd = Math.min(end, (Math.floor(a / PIECE) + 1) * PIECE);
      const validity = this.shadow.wordValidity(a, pieceEnd - a);
      if (validity !== 0) {
        if (this.cover(a, pieceEnd)) {
          this.scanWords(a, this.viewBytes as Uint8Array, a - this.viewStart, (pieceEnd - a) >>> 3, validity === 1, priorDefinite, clique);
        } else {
          // Not one mapping: take it page by page and skip what is not mapped, as memcheck
          // skips unreadable pages.
          for (let p = a; p < pieceEnd;) {
            const pEnd = Math.min(pieceEnd, (Math.floor(p / PAGE) + 1) * PAGE);
            const pb = this.memory.view(p, pEnd - p);
            if (pb) this.scanWords(p, pb, 0, (pEnd - p) >>> 3, false, priorDefinite, clique);
            p = pEnd;
          }
        }
      }
      a = pieceEnd;
    }
  }

  /**
   * Makes the cached view cover guest [a, end); false when memory cannot give it in one piece.
   * Whole mappings are preferred (kept in a sorted list, so pointer chasing between a few arena
   * segments and roots never asks memory twice); without mappingAt, a view of the whole 64 KiB
   * piece around the range, so the many small blocks of a heap piece share one view.
   */
  private cover(a: number, end: number): boolean {
    if (this.viewBytes && a >= this.viewStart && end <= this.viewEnd) return true;
    const known = this.knownMapping(a);
    if (known && end <= known.end) return this.setView(known.start, known.bytes);
    if (this.memory.mappingAt && !known) {
      const m = this.memory.mappingAt(a);
      if (m) {
        this.addMapping(m.start, m.bytes);
        if (end <= m.start + m.bytes.length) return this.setView(m.start, m.bytes);
      }
    }
    const pieceNo = Math.floor(a / PIECE);
    if (!this.failedPieces.has(pieceNo) && end <= (pieceNo + 1) * PIECE) {
      const v = this.memory.view(pieceNo * PIECE, PIECE);
      if (v) return this.setView(pieceNo * PIECE, v);
      this.failedPieces.add(pieceNo);
    }
    // The pages around it, then exactly the range.
    const ps = Math.floor(a / PAGE) * PAGE;
    const pe = Math.ceil(end / PAGE) * PAGE;
    const pv = this.memory.view(ps, pe - ps);
    if (pv) return this.setView(ps, pv);
    const v = this.memory.view(a, end - a);
    return v ? this.setView(a, v) : false;
  }

  /** The known mapping containing addr. */
  private knownMapping(addr: number): { start: number; end: number; bytes: Uint8Array } | undefined {
    const ms = this.mappings;
    let lo = 0;
    let hi = ms.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (addr < ms[mid].start) hi = mid - 1;
      else if (addr >= ms[mid].end) lo = mid + 1;
      else return ms[mid];
    }
    return undefined;
  }

  private addMapping(start: number, bytes: Uint8Array): void {
    const m = { start, end: start + bytes.length, bytes };
    let i = this.mappings.length;
    while (i > 0 && this.mappings[i - 1].start > start) i--;
    this.mappings.splice(i, 0, m);
  }

  private setView(start: number, bytes: Uint8Array): true {
    this.viewStart = start;
    this.viewEnd = start + bytes.length;
    this.viewBytes = bytes;
    return true;
  }

  /**
   * Scans nWords words of `bytes` from index `off` (guest address base, 8-aligned). Unless
   * allValid, only words the shadow calls valid are looked at: from the shadow's bulk mask when
   * it offers one (one chunk lookup instead of one per word), else one by one.
   */
  private scanWords(base: number, bytes: Uint8Array, off: number, nWords: number, allValid: boolean,
    priorDefinite: boolean, clique: number): void {
    const lowest = this.lowest;
    const highest = this.highest;
    const shadow = this.shadow;
    let mask: Uint8Array | undefined;
    if (!allValid && nWords >= 4 && shadow.validWordMask) {
      mask = this.maskBuffer(nWords);
      shadow.validWordMask(base, nWords * WORD, mask);
    }
    const words = (bytes.byteOffset + off) % 4 === 0 ? this.wordsOf(bytes) : undefined;
    if (!words) {
      // Unaligned host bytes (not seen with page-backed guest memory): the plain way.
      for (let i = 0; i < nWords; i++) {
        if (!allValid && !shadow.isValidAlignedWord(base + i * WORD)) continue;
        this.scanned += WORD;
        const ptr = readWord(bytes, off + i * WORD);
        if (ptr >= lowest && ptr < highest) this.push(ptr, priorDefinite, clique);
      }
      return;
    }
    // Three copies of the loop so each stays monomorphic and tight.
    const w0 = (bytes.byteOffset + off) >>> 2;
    let valid = 0;
    if (allValid) {
      valid = nWords;
      for (let i = 0, j = w0; i < nWords; i++, j += 2) {
        const ptr = words[j + 1] * TWO32 + words[j];
        if (ptr >= lowest && ptr < highest) this.push(ptr, priorDefinite, clique);
      }
    } else if (mask) {
      for (let i = 0, j = w0; i < nWords; i++, j += 2) {
        if (mask[i] === 0) continue;
        valid++;
        const ptr = words[j + 1] * TWO32 + words[j];
        if (ptr >= lowest && ptr < highest) this.push(ptr, priorDefinite, clique);
      }
    } else {
      for (let i = 0, j = w0; i < nWords; i++, j += 2) {
        if (!shadow.isValidAlignedWord(base + i * WORD)) continue;
        valid++;
        const ptr = words[j + 1] * TWO32 + words[j];
        if (ptr >= lowest && ptr < highest) this.push(ptr, priorDefinite, clique);
      }
    }
    this.scanned += valid * WORD;
  }

  /** A reusable mask buffer of at least n bytes. */
  private maskBuffer(n: number): Uint8Array {
    if (this.mask.length < n) this.mask = new Uint8Array(Math.max(n, 2 * this.mask.length));
    return this.mask;
  }

  /**
   * A 32-bit view over the whole buffer behind `bytes` (cached per buffer: guest memory comes
   * from a few large mappings).
   */
  private wordsOf(bytes: Uint8Array): Uint32Array {
    const buf = bytes.buffer;
    if (buf === this.lastBuffer && this.lastWords) return this.lastWords;
    let w = this.wordViews.get(buf);
    if (!w) {
      w = new Uint32Array(buf, 0, buf.byteLength >>> 2);
      this.wordViews.set(buf, w);
    }
    this.lastBuffer = buf;
    this.lastWords = w;
    return w;
  }
}

/** Little-endian 64-bit word at bytes[off] as a Number (exact below 2^53, which covers every
 * guest address). */
function readWord(bytes: Uint8Array, off: number): number {
  const lo = (bytes[off] | (bytes[off + 1] << 8) | (bytes[off + 2] << 16) | (bytes[off + 3] << 24)) >>> 0;
  const hi = (bytes[off + 4] | (bytes[off + 5] << 8) | (bytes[off + 6] << 16) | (bytes[off + 7] << 24)) >>> 0;
  return hi * TWO32 + lo;
}

/** A loss record: LossRecordInput plus the context it was grouped under and its blocks. */
export interface LossRecord<C> extends LossRecordInput {
  /** Context of the record's oldest block (its stack is the record's stack). */
  ctx: C;
  /** Indexes into LeakSearchResult.blocks. */
  blockIndexes: number[];
  /** Age of ctx (its block's allocation order): the last tie-break of the print order. */
  age: number;
}

/** How loss records group and show contexts. */
export interface LossRecordOptions<C> {
  /** Grouping key of a context: equal keys merge (apply --leak-resolution here). */
  key(ctx: C): string | number;
  /** Allocation stack shown for a record. */
  stack(ctx: C): ErrorFrame[];
}

/**
 * Merges the searched blocks into loss records by (state, context key), memcheck's lr_table, in
 * print order: total bytes, then state (reachable < possible < indirect < definite), then block
 * count, then context age. A definite record carries the indirect bytes of its blocks' cliques.
 */
export function lossRecords<C>(result: LeakSearchResult<C>, opts: LossRecordOptions<C>): LossRecord<C>[] {
  const groups = new Map<string, { rec: LossRecord<C>; age: number }>();
  result.blocks.forEach((b, i) => {
    const state = result.states[i];
    const id = `${state}\u0000${String(opts.key(b.ctx))}`;
    const age = b.serial ?? i;
    let g = groups.get(id);
    if (!g) {
      g = { rec: { state, stack: [], bytes: 0, indirectBytes: 0, blocks: 0, ctx: b.ctx, blockIndexes: [], age }, age };
      groups.set(id, g);
    } else if (age < g.age) {
      g.age = age;
      g.rec.age = age;
      g.rec.ctx = b.ctx;
    }
    g.rec.bytes += b.size;
    g.rec.indirectBytes += result.indirectBytes[i];
    g.rec.blocks++;
    g.rec.blockIndexes.push(i);
  });
  const rank = (s: LeakState) => LEAK_STATES.indexOf(s);
  const sorted = [...groups.values()].sort((x, y) =>
    (x.rec.bytes + x.rec.indirectBytes) - (y.rec.bytes + y.rec.indirectBytes)
    || rank(x.rec.state) - rank(y.rec.state)
    || x.rec.blocks - y.rec.blocks
    || x.age - y.age);
  return sorted.map((g) => {
    g.rec.stack = opts.stack(g.rec.ctx);
    return g.rec;
  });
}

/** A mapping as the vtable test needs it. */
export interface VtableSegment {
  start: number;
  end: number;
  /** Backed by a file (vtables live in loaded objects). */
  fileMapped: boolean;
  readable: boolean;
  executable: boolean;
}

/**
 * memcheck's vtable test for the multipleinheritance heuristic: addr lies in a readable
 * file-backed mapping, and among its first 21 words (stopping a word short of the mapping's end)
 * two non-null ones point into executable file-backed mappings before any other non-null word
 * does not. Results are cached per address.
 */
export function vtableDetector(
  segmentAt: (addr: number) => VtableSegment | undefined,
  readWordAt: (addr: number) => number | undefined,
): (addr: number) => boolean {
  const cache = new Map<number, boolean>();
  const MAX_WORDS = 20;
  return (addr) => {
    const known = cache.get(addr);
    if (known !== undefined) return known;
    let answer = false;
    const seg = segmentAt(addr);
    if (seg && seg.fileMapped && seg.readable) {
      // memcheck's segment end is inclusive; its last scanned word starts 8 bytes before it.
      const scanMax = Math.min(addr + MAX_WORDS * WORD, seg.end - 1 - WORD);
      let fnPtrs = 0;
      for (let p = addr; p <= scanMax; p += WORD) {
        const fn = readWordAt(p);
        if (fn === undefined) break;
        if (fn === 0) continue;
        const s = segmentAt(fn);
        if (!s || !s.fileMapped || !s.executable) break;
        if (++fnPtrs === 2) { answer = true; break; }
      }
    }
    cache.set(addr, answer);
    return answer;
  };
}
