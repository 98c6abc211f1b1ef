/**
 * Memcheck's freed-block queue: freed blocks wait here, no-access, before their memory can be
 * reused, so a dangling access is reported as "inside a block … free'd". Two FIFO lists, as in
 * memcheck: blocks of at least --freelist-big-blocks bytes in one, the rest in the other. When
 * the queued volume exceeds --freelist-vol, the oldest big blocks leave first, then the oldest
 * small ones. A block larger than the whole volume goes to the head of its list (it would leave
 * at the next release anyway), keeping the smaller blocks queued behind it.
 */

/** What the queue needs of a block. */
export interface Queued {
  size: number;
  /** Position in its list: smaller leaves earlier. Set by the queue. */
  qSeq: number;
  /** True in the big-blocks list. Set by the queue. */
  qBig: boolean;
}

/** One FIFO list with an occasional push at the head. */
class List<T extends Queued> {
  private items: T[] = [];
  private head = 0;
  /** Items pushed at the head, most recent last (popped first). */
  private front: T[] = [];
  private backSeq = 0;
  private frontSeq = 0;

  get length(): number {
    return this.items.length - this.head + this.front.length;
  }

  pushBack(x: T): void {
    x.qSeq = ++this.backSeq;
    this.items.push(x);
  }

  pushFront(x: T): void {
    x.qSeq = --this.frontSeq;
    this.front.push(x);
  }

  popFront(): T | undefined {
    if (this.front.length > 0) return this.front.pop();
    if (this.head >= this.items.length) return undefined;
    const x = this.items[this.head];
    this.head++;
    // Compact once the consumed prefix dominates, so memory stays proportional to the queue.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.front.length - 1; i >= 0; i--) yield this.front[i];
    for (let i = this.head; i < this.items.length; i++) yield this.items[i];
  }
}

export class Quarantine<T extends Queued> {
  private readonly big = new List<T>();
  private readonly small = new List<T>();
  private bytes = 0;

  /**
   * @param volume --freelist-vol: bytes the queue may hold.
   * @param bigBlocks --freelist-big-blocks: blocks at least this large go to the big list.
   */
  constructor(readonly volume: number, readonly bigBlocks: number) {}

  /** Bytes queued. */
  get queuedBytes(): number {
    return this.bytes;
  }

  /** Blocks queued. */
  get length(): number {
    return this.big.length + this.small.length;
  }

  /** True when the volume is exceeded: the next allocation should call release(). */
  get overfull(): boolean {
    return this.bytes > this.volume;
  }

  /** Queues a freed block. */
  add(x: T): void {
    const big = x.size >= this.bigBlocks;
    x.qBig = big;
    const list = big ? this.big : this.small;
    if (list.length > 0 && x.size >= this.volume) list.pushFront(x);
    else list.pushBack(x);
    this.bytes += x.size;
  }

  /** Removes oldest blocks (big list first) until the volume is respected; calls fn on each. */
  release(fn: (x: T) => void): void {
    for (const list of [this.big, this.small]) {
      while (this.bytes > this.volume) {
        const x = list.popFront();
        if (!x) break;
        this.bytes -= x.size;
        fn(x);
      }
    }
  }

  /** Queued blocks in release order. */
  *[Symbol.iterator](): IterableIterator<T> {
    yield* this.big;
    yield* this.small;
  }
}

/** Release-order comparison of two queued blocks: true when a leaves before b (memcheck's
 * describe searches the queue in this order and takes the first block that brackets). */
export function releasedBefore(a: Queued, b: Queued): boolean {
  if (a.qBig !== b.qBig) return a.qBig;
  return a.qSeq < b.qSeq;
}
