/**
 * An index of address intervals answering "which intervals contain this address?" quickly with
 * 10^5–10^6 entries that come and go at malloc/free rate.
 *
 * Small intervals (the common heap block) are filed in fixed 1 KiB address buckets, one entry
 * per bucket they touch, so a lookup reads one short bucket. Large intervals would need many
 * bucket entries; they go to a list sorted by start instead (there can only be few of them per
 * byte of heap), searched by binary search. Intervals may overlap (client-described blocks can).
 */

/** An indexed item: the half-open interval [lo, hi) it occupies. lo and hi must not change
 * while the item is in an index. */
export interface Interval {
  lo: number;
  hi: number;
}

const BUCKET = 1024;

/** The small intervals touching one bucket. Bounds are kept in a flat number array beside the
 * items, so a lookup reads one packed array instead of touching every item object. */
interface Bucket<T> {
  /** lo, hi of items[i] at 2i, 2i+1. */
  bounds: number[];
  items: T[];
}
/** Intervals longer than this go to the sorted large list. */
const LARGE = 16 * 1024;

export class IntervalIndex<T extends Interval> {
  private readonly buckets = new Map<number, Bucket<T>>();
  /** Large intervals sorted by lo. */
  private readonly large: T[] = [];
  /** Longest large interval ever inserted: bounds the backward walk of a lookup. */
  private largeMaxLen = 0;
  private count = 0;

  /** Number of indexed intervals. */
  get size(): number {
    return this.count;
  }

  /** Adds an item. Empty intervals contain no address and are not stored. */
  insert(item: T): void {
    const len = item.hi - item.lo;
    if (len <= 0) return;
    this.count++;
    if (len > LARGE) {
      this.large.splice(this.upperBound(item.lo), 0, item);
      if (len > this.largeMaxLen) this.largeMaxLen = len;
      return;
    }
    const last = Math.floor((item.hi - 1) / BUCKET);
    for (let b = Math.floor(item.lo / BUCKET); b <= last; b++) {
      const bucket = this.buckets.get(b);
      if (bucket) {
        bucket.items.push(item);
        bucket.bounds.push(item.lo, item.hi);
      } else this.buckets.set(b, { bounds: [item.lo, item.hi], items: [item] });
    }
  }

  /** Removes an item (with the lo and hi it was inserted with); false if it was not there. */
  remove(item: T): boolean {
    const len = item.hi - item.lo;
    if (len <= 0) return false;
    if (len > LARGE) {
      // Several large items may share lo: look at each of them.
      for (let i = this.lowerBound(item.lo); i < this.large.length && this.large[i].lo === item.lo; i++) {
        if (this.large[i] === item) {
          this.large.splice(i, 1);
          this.count--;
          return true;
        }
      }
      return false;
    }
    let found = false;
    const last = Math.floor((item.hi - 1) / BUCKET);
    for (let b = Math.floor(item.lo / BUCKET); b <= last; b++) {
      const bucket = this.buckets.get(b);
      if (!bucket) continue;
      const { items, bounds } = bucket;
      const i = items.indexOf(item);
      if (i < 0) continue;
      found = true;
      // Order inside a bucket carries no meaning: swap-remove.
      const tail = items.pop() as T;
      const hi = bounds.pop() as number;
      const lo = bounds.pop() as number;
      if (i < items.length) {
        items[i] = tail;
        bounds[2 * i] = lo;
        bounds[2 * i + 1] = hi;
      }
      if (items.length === 0) this.buckets.delete(b);
    }
    if (found) this.count--;
    return found;
  }

  /**
   * The item containing addr that `better` prefers (better(a, b) true when a should win over
   * b), or undefined. With no preference the first found wins.
   */
  find(addr: number, better?: (a: T, b: T) => boolean): T | undefined {
    let best: T | undefined;
    const bucket = this.buckets.get(Math.floor(addr / BUCKET));
    if (bucket) {
      const bounds = bucket.bounds;
      for (let i = 0, n = bounds.length; i < n; i += 2) {
        if (bounds[i] <= addr && addr < bounds[i + 1]) {
          const it = bucket.items[i >>> 1];
          if (!better) return it;
          if (!best || better(it, best)) best = it;
        }
      }
    }
    const large = this.large;
    if (large.length > 0) {
      // Candidates start at or before addr, and no earlier than addr - largeMaxLen.
      for (let i = this.upperBound(addr) - 1; i >= 0 && large[i].lo > addr - this.largeMaxLen; i--) {
        const it = large[i];
        if (addr < it.hi) {
          if (!better) return it;
          if (!best || better(it, best)) best = it;
        }
      }
    }
    return best;
  }

  /** Calls fn for every item that intersects [lo, hi) (possibly more than once for an item that
   * spans several buckets; callers deduplicate if it matters). */
  forEachIntersecting(lo: number, hi: number, fn: (item: T) => void): void {
    if (hi <= lo) return;
    const last = Math.floor((hi - 1) / BUCKET);
    for (let b = Math.floor(lo / BUCKET); b <= last; b++) {
      const bucket = this.buckets.get(b);
      if (!bucket) continue;
      for (const it of bucket.items) if (it.lo < hi && it.hi > lo) fn(it);
    }
    for (const it of this.large) if (it.lo < hi && it.hi > lo) fn(it);
  }

  /** Number of 1 KiB buckets a range covers: lets callers choose between a ranged walk and a
   * walk over all their items. */
  static bucketsIn(lo: number, hi: number): number {
    return hi <= lo ? 0 : Math.floor((hi - 1) / BUCKET) - Math.floor(lo / BUCKET) + 1;
  }

  /** First index of `large` whose lo is ≥ x. */
  private lowerBound(x: number): number {
    let lo = 0;
    let hi = this.large.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.large[mid].lo < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First index of `large` whose lo is > x. */
  private upperBound(x: number): number {
    let lo = 0;
    let hi = this.large.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.large[mid].lo <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
