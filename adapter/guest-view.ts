/**
 * Guest memory as the debugger shows it: bytes with memcheck's A and V bits, short heap-block
 * descriptions for pointers, and `readMemory` whose unreadable bytes are memcheck's unaddressable
 * ones (a freed block reads as unreadable, as it would fault under memcheck).
 */
import type { DebugInfo } from '../engine/debuginfo/debuginfo';
import type { ErrorFrame } from '../engine/errors/error-record';
import type { Memcheck } from '../engine/memcheck/memcheck';
import { PRELOAD_OBJ } from '../engine/memcheck/memcheck';
import type { GuestProcess } from '../engine/process/guest-process';
import type { GuestView, ObjectBytes } from './values';

/** What readMemory returns: the readable bytes from `address`, then how many bytes cannot be read. */
export interface MemoryRead {
  address: number;
  data: Uint8Array;
  unreadable: number;
}

export class GuestMemoryView implements GuestView {
  constructor(private readonly proc: GuestProcess, private readonly memcheck: Memcheck | undefined, private readonly debug: DebugInfo) {}

  /** True when the byte is mapped and (under memcheck) addressable. */
  accessible(addr: number): boolean {
    if (this.proc.mem.find(addr) === undefined) return false;
    return this.memcheck ? this.memcheck.shadow.isAddressable(addr) : true;
  }

  read(addr: number, len: number): ObjectBytes {
    const bytes = new Uint8Array(len);
    const noaccess = new Uint8Array(len);
    for (let done = 0; done < len;) {
      const a = addr + done;
      const r = this.proc.mem.find(a);
      const n = r ? Math.min(len - done, r.end - a) : Math.min(len - done, 4096 - (a % 4096));
      if (r) bytes.set(this.proc.mem.view(a, n) ?? new Uint8Array(n), done);
      for (let i = 0; i < n; i++) if (!r || !this.accessible(a + i)) noaccess[done + i] = 1;
      done += n;
    }
    const vbits = this.memcheck ? this.memcheck.shadow.getVbits(addr, len) : new Uint8Array(len);
    // An unaddressable byte has no meaningful V bits; it is reported as unaddressable instead.
    for (let i = 0; i < len; i++) if (noaccess[i]) vbits[i] = 0;
    return { bytes, vbits, noaccess, address: addr };
  }

  describe(addr: number): string | undefined {
    const info = this.memcheck?.addressInfo(addr);
    if (!info || info.tag !== 'block') return undefined;
    let relation: string;
    let delta: number;
    if (info.offset < 0) { relation = 'before'; delta = -info.offset; }
    else if (info.offset >= info.size) { relation = 'after'; delta = info.offset - info.size; }
    else { relation = 'inside'; delta = info.offset; }
    const head = `${delta} bytes ${relation} a block of ${info.size}`;
    if (info.kind === 'freed') {
      return `${head} freed at ${where(info.freeStack)}, alloc'd at ${where(info.allocStack)}`;
    }
    return `${head} ${info.kind === 'mallocd' ? "alloc'd" : 'client-defined'} at ${where(info.allocStack)}`;
  }

  symbol(addr: number): string | undefined {
    const s = this.debug.symbolAt(addr);
    if (!s) return undefined;
    return addr === s.start ? s.name : `${s.name}+${addr - s.start}`;
  }

  /** readMemory: the accessible bytes from addr, stopping at the first inaccessible run. */
  readMemory(addr: number, count: number): MemoryRead {
    let n = 0;
    while (n < count && this.accessible(addr + n)) n++;
    if (n > 0) return { address: addr, data: this.proc.mem.read(addr, n), unreadable: this.inaccessibleRun(addr + n, count - n) };
    return { address: addr, data: new Uint8Array(0), unreadable: this.inaccessibleRun(addr, count) };
  }

  private inaccessibleRun(addr: number, max: number): number {
    let k = 0;
    while (k < max && !this.accessible(addr + k)) k++;
    return k;
  }
}

/** The first frame of a block's stack outside the replaced allocator, as "file:line" (or its function). */
function where(stack: readonly ErrorFrame[] | undefined): string {
  const f = stack?.find((x) => x.obj !== PRELOAD_OBJ) ?? stack?.[0];
  if (!f) return '???';
  if (f.file !== undefined && f.line !== undefined) return `${f.file}:${f.line}`;
  return f.fn ?? `0x${f.ip.toString(16)}`;
}
