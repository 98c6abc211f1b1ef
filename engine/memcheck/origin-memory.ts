/**
 * The memory side of `--track-origins=yes`: an origin tag (otag) for every 4-byte word of guest
 * memory, and the registry that says what a tag stands for.
 *
 * An otag is a 32-bit number, 0 for "no origin known". Its low 2 bits are the kind of creation
 * (Valgrind's MC_OKIND_*: 0 unknown, 1 heap, 2 stack, 3 client request) and the rest number the
 * creation context, as Valgrind's `ECU | okind`. The instrumented code combines tags with an
 * unsigned max, so any nonzero tag survives a merge with "none".
 *
 * Memory keeps one tag per aligned 4-byte word, as Valgrind's origin cache does, in 64 KiB
 * chunks of Uint32Array made on first nonzero write (absent = all 0), like the V bits of
 * shadow-memory.ts. A word's tag is only asked for when some of its bytes are undefined (the
 * instrumented load asks only then), which decides partial writes:
 * - a nonzero tag written over part of a word takes the whole word (the newest undefined bytes
 *   name it);
 * - a zero tag (a range made defined, or undefined data of unknown origin) clears only words it
 *   covers completely: the other bytes of a partly written word may still be undefined with a
 *   known origin, which is worth more than none.
 *
 * Addresses are Numbers up to 2^47: chunk numbers come from division, never 32-bit operators.
 */
import { forChunkPieces } from './chunk-pieces';
import type { OriginKind } from '../errors/address-description';
import { describeOrigin } from '../errors/address-description';
import type { AuxItem, ErrorFrame } from '../errors/error-record';

/** Bytes of guest memory covered by one origin chunk. */
export const ORIGIN_CHUNK_SIZE = 65536;
const CHUNK = ORIGIN_CHUNK_SIZE;
const WORDS = CHUNK / 4;

/** Memory-overhead figures of an origin memory. */
export interface OriginStats {
  /** Chunks holding tags. */
  chunks: number;
  /** Bytes held by them. */
  bytes: number;
}

/** An otag per 4-byte word of the guest address space (absent = 0). */
export class OriginMemory {
  private readonly map = new Map<number, Uint32Array>();
  /** Last chunk looked up (undefined: absent), since accesses cluster. */
  private lastNo = -1;
  private lastWords: Uint32Array | undefined;

  /** The otag of a load of `size` bytes at addr: the max over the words it touches. */
  get(addr: number, size: number): number {
    const no = Math.floor(addr / CHUNK);
    const o = addr - no * CHUNK;
    if (o + size <= CHUNK) {
      const w = no === this.lastNo ? this.lastWords : this.lookup(no);
      if (!w) return 0;
      const first = o >>> 2;
      const last = (o + size - 1) >>> 2;
      // Aligned loads of up to 4 bytes touch one word; of 8, two.
      if (first === last) return w[first];
      let m = w[first];
      for (let i = first + 1; i <= last; i++) if (w[i] > m) m = w[i];
      return m;
    }
    let m = 0;
    this.forPieces(addr, size, (pno, po, n) => {
      const t = this.get(pno * CHUNK + po, n);
      if (t > m) m = t;
    });
    return m;
  }

  /** Tags [addr, addr+len) with otag (0 clears; partial words as the file comment says). */
  set(addr: number, len: number, otag: number): void {
    if (len <= 0) return;
    // Hot path: a store, a heap block or a stack frame inside one chunk.
    const no = Math.floor(addr / CHUNK);
    const o = addr - no * CHUNK;
    if (o + len < CHUNK) {
      this.setInChunk(no, o, len, otag);
      return;
    }
    this.forPieces(addr, len, (pno, po, n) => {
      if (n === CHUNK && otag === 0) this.drop(pno);
      else this.setInChunk(pno, po, n, otag);
    });
  }

  /** Clears the tags of [addr, addr+len) (the range became defined or went away). */
  clear(addr: number, len: number): void {
    this.set(addr, len, 0);
  }

  /**
   * Copies the tags of [src, src+len) to [dst, dst+len), overlapping ranges included (realloc,
   * memmove, mremap: where the engine copies V bits). A destination word gets the max of the
   * source words its bytes come from.
   */
  copy(src: number, dst: number, len: number): void {
    if (len <= 0 || src === dst) return;
    if (!this.any(src, len)) {
      this.clear(dst, len);
      return;
    }
    // Read every destination word's new tag first: the ranges may overlap.
    const first = Math.floor(dst / 4) * 4;
    const n = Math.ceil((dst + len - first) / 4);
    const tags = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const lo = Math.max(first + 4 * i, dst);
      const hi = Math.min(first + 4 * i + 4, dst + len);
      tags[i] = this.get(src + (lo - dst), hi - lo);
    }
    for (let i = 0; i < n; i++) {
      const lo = Math.max(first + 4 * i, dst);
      this.set(lo, Math.min(first + 4 * i + 4, dst + len) - lo, tags[i]);
    }
  }

  /** True when some word of [addr, addr+len) has a nonzero tag. */
  any(addr: number, len: number): boolean {
    let found = false;
    this.forPieces(addr, len, (no, o, n) => {
      const w = found ? undefined : this.lookup(no);
      if (!w) return;
      for (let i = o >>> 2, e = (o + n - 1) >>> 2; i <= e; i++) if (w[i] !== 0) { found = true; return; }
    });
    return found;
  }

  /** Memory-overhead figures (a benchmark number). */
  stats(): OriginStats {
    return { chunks: this.map.size, bytes: this.map.size * CHUNK };
  }

  private lookup(no: number): Uint32Array | undefined {
    const w = this.map.get(no);
    this.lastNo = no;
    this.lastWords = w;
    return w;
  }

  private drop(no: number): void {
    this.map.delete(no);
    if (this.lastNo === no) this.lastWords = undefined;
  }

  /** set() within one chunk: bytes [o, o+n) of chunk no. */
  private setInChunk(no: number, o: number, n: number, otag: number): void {
    let w = no === this.lastNo ? this.lastWords : this.lookup(no);
    if (!w) {
      // Clearing where nothing is tagged: nothing to do (the common defined store).
      if (otag === 0) return;
      w = new Uint32Array(WORDS);
      this.map.set(no, w);
      this.lastWords = w;
    }
    const end = o + n;
    let first = o >>> 2;
    let last = (end - 1) >>> 2;
    // A nonzero tag takes every word it touches; a clear, only the words covered completely.
    if (otag === 0) {
      if ((o & 3) !== 0) first++;
      if ((end & 3) !== 0) last--;
    }
    // Stores touch one to four words: a loop beats the fill() builtin's call cost there.
    if (last - first < 8) for (let i = first; i <= last; i++) w[i] = otag;
    else w.fill(otag, first, last + 1);
  }

  /** Calls fn(chunkNo, offset, length) for each chunk-sized piece of [addr, addr+len). */
  private forPieces(addr: number, len: number, fn: (no: number, o: number, n: number) => void): void {
    forChunkPieces(addr, len, CHUNK, fn);
  }
}

// ------------------------------------------------------------------------------ tags

/** Valgrind's MC_OKIND_* codes, the low 2 bits of an otag. */
const KIND_CODE: Readonly<Record<OriginKind, number>> = { unknown: 0, heap: 1, stack: 2, client: 3 };
const KIND_OF_CODE: readonly OriginKind[] = ['unknown', 'heap', 'stack', 'client'];
/** Context numbers must leave the tag within 32 bits. */
const MAX_CONTEXTS = 2 ** 30 - 1;

/** What an otag stands for. */
export interface Origin<C> {
  readonly kind: OriginKind;
  /** Where the value was created: opaque here (the engine's ExeContext). */
  readonly context: C;
}

/**
 * The otag registry: (kind, context) ↔ otag. Contexts are compared by identity, so pass
 * interned ones (ExeContexts.intern/capture); one context used for two kinds shares its number,
 * as an ECU does.
 */
export class OriginTags<C = unknown> {
  private readonly contexts: C[] = [];
  private readonly numbers = new Map<C, number>();

  /** The otag for values created by `kind` at `context` (always the same for the same pair). */
  tag(kind: OriginKind, context: C): number {
    let n = this.numbers.get(context);
    if (n === undefined) {
      if (this.contexts.length >= MAX_CONTEXTS) throw new Error('origin tags: too many creation contexts');
      this.contexts.push(context);
      n = this.contexts.length;
      this.numbers.set(context, n);
    }
    return n * 4 + KIND_CODE[kind];
  }

  /** What an otag stands for; undefined for 0 (no origin) or a tag not made here. */
  lookup(otag: number): Origin<C> | undefined {
    const n = Math.floor(otag / 4);
    if (n < 1 || n > this.contexts.length) return undefined;
    return { kind: KIND_OF_CODE[otag & 3], context: this.contexts[n - 1] };
  }

  /** Distinct creation contexts tagged so far. */
  get size(): number {
    return this.contexts.length;
  }
}

/** Valgrind's origin line for a kind: "Uninitialised value was created by a heap allocation", … */
export function originText(kind: OriginKind): string {
  return describeOrigin(kind, []).text;
}

/**
 * The origin line of an error about an undefined value with tag otag, with the creation stack
 * (symbolized by the caller); undefined when no origin is known (Valgrind then prints none).
 */
export function describeOtag<C>(tags: OriginTags<C>, otag: number, frames: (context: C) => ErrorFrame[]): AuxItem | undefined {
  const o = tags.lookup(otag);
  return o && describeOrigin(o.kind, frames(o.context));
}
