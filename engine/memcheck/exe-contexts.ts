/**
 * Execution contexts (Valgrind's ExeContexts): stacks recorded at allocation and free time as
 * addresses only, interned so identical stacks share one entry; symbolized only when a report
 * needs them.
 */
import type { StackFrame } from '../debuginfo/frame';
import type { GuestProcess } from '../process/guest-process';

/** An interned stack. */
export interface ExeContext {
  id: number;
  pcs: readonly number[];
}

/** A hash of a stack's addresses (every malloc and free interns one: no string keys). */
function hashPcs(pcs: readonly number[]): number {
  let h = pcs.length;
  for (const pc of pcs) {
    h = Math.imul(h ^ (pc >>> 0), 0x9e3779b1);
    h = Math.imul(h ^ Math.floor(pc / 4294967296), 0x85ebca6b);
    h ^= h >>> 15;
  }
  return h;
}

function samePcs(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class ExeContexts {
  /** Contexts by hash of their addresses (a list, for the rare collision). */
  private readonly byHash = new Map<number, ExeContext[]>();
  private count = 0;
  private readonly frameCache = new Map<number, StackFrame[]>();

  constructor(private readonly proc: GuestProcess, private readonly maxFrames: number) {}

  /** The current thread's stack, interned. */
  capture(): ExeContext {
    return this.intern(this.proc.debug.pcsOf(this.proc.uc, this.maxFrames));
  }

  /** Interns a list of addresses. */
  intern(pcs: number[]): ExeContext {
    const h = hashPcs(pcs);
    let bucket = this.byHash.get(h);
    if (!bucket) {
      bucket = [];
      this.byHash.set(h, bucket);
    }
    for (const c of bucket) if (samePcs(c.pcs, pcs)) return c;
    const c = { id: ++this.count, pcs };
    bucket.push(c);
    return c;
  }

  /** Symbolized frames of a context. */
  frames(c: ExeContext): StackFrame[] {
    let f = this.frameCache.get(c.id);
    if (!f) {
      f = this.proc.debug.frames(c.pcs);
      this.frameCache.set(c.id, f);
    }
    return f;
  }

  /** Number of distinct contexts (for -v statistics). */
  get size(): number {
    return this.count;
  }
}
