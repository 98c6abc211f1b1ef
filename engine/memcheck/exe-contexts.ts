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

export class ExeContexts {
  private readonly byKey = new Map<string, ExeContext>();
  private readonly frameCache = new Map<number, StackFrame[]>();

  constructor(private readonly proc: GuestProcess, private readonly maxFrames: number) {}

  /** The current thread's stack, interned. */
  capture(): ExeContext {
    return this.intern(this.proc.debug.pcsOf(this.proc.uc, this.maxFrames));
  }

  /** Interns a list of addresses. */
  intern(pcs: number[]): ExeContext {
    const key = pcs.join(',');
    let c = this.byKey.get(key);
    if (!c) {
      c = { id: this.byKey.size + 1, pcs };
      this.byKey.set(key, c);
    }
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
    return this.byKey.size;
  }
}
