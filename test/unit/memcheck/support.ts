/**
 * Test support for the memcheck data structures: a fake guest address space (plain JS arrays
 * standing in for the engine's mapped pages) and a builder of heap images for the leak search.
 */
import { Heap, HeapOptions } from '../../../engine/memcheck/heap';
import { LeakHeuristic, LeakSearchResult, searchLeaks, vtableDetector, VtableSegment } from '../../../engine/memcheck/leak-check';
import { ShadowMemory } from '../../../engine/memcheck/shadow-memory';

/** One mapping of the fake guest. */
export interface FakeRegion {
  start: number;
  bytes: Uint8Array;
  fileMapped: boolean;
  executable: boolean;
}

const PAGE = 4096;

/** A guest address space made of JS byte arrays; grows a heap arena like the engine would. */
export class FakeGuest {
  readonly regions: FakeRegion[] = [];
  /** Where the next arena segment goes; a one-page hole separates segments. */
  nextArena = 0x4a00000;
  /** Segments handed out by grow. */
  grows: { start: number; size: number }[] = [];
  /** Refuse to grow beyond this many bytes in total (out-of-memory tests). */
  growLimit = Infinity;

  /** Maps [start, start+size) (zero-filled). */
  map(start: number, size: number, opts: { fileMapped?: boolean; executable?: boolean } = {}): FakeRegion {
    const r = { start, bytes: new Uint8Array(size), fileMapped: opts.fileMapped ?? false, executable: opts.executable ?? false };
    this.regions.push(r);
    this.regions.sort((a, b) => a.start - b.start);
    return r;
  }

  /** HeapMemory.grow: fresh pages after the previous segment. */
  grow(minBytes: number): { start: number; size: number } | undefined {
    const size = Math.ceil(minBytes / PAGE) * PAGE;
    const used = this.grows.reduce((n, g) => n + g.size, 0);
    if (used + size > this.growLimit) return undefined;
    const start = this.nextArena;
    this.nextArena += size + PAGE;
    this.map(start, size);
    const seg = { start, size };
    this.grows.push(seg);
    return seg;
  }

  /** HeapMemory.fill. */
  fill(addr: number, len: number, byte: number): void {
    const v = this.view(addr, len);
    if (!v) throw new Error(`fill outside the fake guest at 0x${addr.toString(16)}`);
    v.fill(byte);
  }

  /** ScanMemory.view: bytes of one region, or undefined. */
  view(start: number, len: number): Uint8Array | undefined {
    const r = this.regionAt(start);
    if (!r || start + len > r.start + r.bytes.length) return undefined;
    return r.bytes.subarray(start - r.start, start - r.start + len);
  }

  /** ScanMemory.mappingAt: the whole region containing addr. */
  mappingAt(addr: number): { start: number; bytes: Uint8Array } | undefined {
    const r = this.regionAt(addr);
    return r && { start: r.start, bytes: r.bytes };
  }

  regionAt(addr: number): FakeRegion | undefined {
    const l = this.last;
    if (l && addr >= l.start && addr < l.start + l.bytes.length) return l;
    for (const r of this.regions) if (addr >= r.start && addr < r.start + r.bytes.length) return (this.last = r);
    return undefined;
  }

  private last: FakeRegion | undefined;

  /** Writes a little-endian 64-bit word. */
  writeWord(addr: number, value: number): void {
    const v = this.view(addr, 8);
    if (!v) throw new Error(`write outside the fake guest at 0x${addr.toString(16)}`);
    const lo = value % 2 ** 32;
    const hi = Math.floor(value / 2 ** 32);
    new DataView(v.buffer, v.byteOffset, 8).setUint32(0, lo, true);
    new DataView(v.buffer, v.byteOffset, 8).setUint32(4, hi, true);
  }

  /** Reads a little-endian 64-bit word, or undefined outside the guest. */
  readWord(addr: number): number | undefined {
    const v = this.view(addr, 8);
    if (!v) return undefined;
    const d = new DataView(v.buffer, v.byteOffset, 8);
    return d.getUint32(4, true) * 2 ** 32 + d.getUint32(0, true);
  }

  /** The mapping facts the vtable test needs. */
  segment(addr: number): VtableSegment | undefined {
    const r = this.regionAt(addr);
    return r && { start: r.start, end: r.start + r.bytes.length, fileMapped: r.fileMapped, readable: true, executable: r.executable };
  }
}

/** Base of the fake data segment where image globals live. */
export const DATA = 0x600000;

/**
 * A guest heap built the way a program would build it: blocks from the real Heap (so addresses
 * are laid out as memcheck lays them out), stores that write memory and define the shadow, and
 * globals in a defined data segment that is the root set.
 */
export class LeakImage {
  readonly guest = new FakeGuest();
  readonly shadow = new ShadowMemory();
  readonly heap: Heap<string>;
  private readonly globals = new Map<string, number>();
  private nextGlobal = DATA;

  constructor(options: HeapOptions = {}) {
    this.heap = new Heap<string>(this.shadow, this.guest, options);
    this.guest.map(DATA, PAGE);
    // .data/.bss: defined from the start, as memcheck marks loaded segments.
    this.shadow.makeDefined(DATA, PAGE);
  }

  /** malloc (or calloc when zeroed) at an allocation site; returns the payload address. */
  malloc(site: string, size: number, zeroed = false, kind: 'malloc' | 'new' | 'new[]' = 'malloc'): number {
    const b = this.heap.alloc(size, 16, kind, site, zeroed);
    if (!b) throw new Error('out of memory');
    return b.start;
  }

  /** A guest store of a word: memory and definedness. */
  store(addr: number, value: number): void {
    this.guest.writeWord(addr, value);
    this.shadow.makeDefined(addr, 8);
  }

  /** Address of a global (allocated on first use). */
  global(name: string): number {
    let a = this.globals.get(name);
    if (a === undefined) {
      a = this.nextGlobal;
      this.nextGlobal += 8;
      this.globals.set(name, a);
    }
    return a;
  }

  /** Stores into a global. */
  setGlobal(name: string, value: number): void {
    this.store(this.global(name), value);
  }

  /** Runs the leak search over the image. */
  search(heuristics?: ReadonlySet<LeakHeuristic>, registers: number[] = []): LeakSearchResult<string> {
    return searchLeaks({
      blocks: [...this.heap.liveBlocks()].map((b) => ({ start: b.start, size: b.size, ctx: b.allocCtx, custom: b.custom, serial: b.serial })),
      roots: [{ start: DATA, end: DATA + PAGE }],
      registers,
      memory: this.guest,
      shadow: this.shadow,
      heuristics,
      isVtable: vtableDetector((a) => this.guest.segment(a), (a) => this.guest.readWord(a)),
    });
  }
}

/** Median time per call of fn over `n` calls, in nanoseconds (best of a few rounds). */
export function nsPerOp(n: number, fn: (i: number) => void): number {
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn(i);
    const dt = Number(process.hrtime.bigint() - t0) / n;
    if (dt < best) best = dt;
  }
  return best;
}

