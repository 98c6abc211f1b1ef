/**
 * Test doubles: a guest address space with per-byte definedness (a miniature of memcheck's A/V
 * bits) and a ParamChecker that records what a real one would report.
 */

import { GuestMemory, ParamChecker } from '../../../engine/xen/interfaces';

export const PAGE = 4096;

/** Sparse paged memory; each byte carries "addressable" (mapped) and "defined" state. */
export class FakeMemory implements GuestMemory {
  private readonly pages = new Map<number, { data: Uint8Array; defined: Uint8Array }>();
  private next = 0x7f0000001000;

  /** Map `len` bytes (page-rounded) at a fresh address; contents undefined unless `fill` given. */
  alloc(len: number, opts: { defined?: boolean; fill?: number } = {}): number {
    const addr = this.next;
    const n = Math.ceil(Math.max(len, 1) / PAGE);
    for (let i = 0; i < n; i++) {
      this.pages.set(addr / PAGE + i, {
        data: new Uint8Array(PAGE).fill(opts.fill ?? 0xa5),
        defined: new Uint8Array(PAGE).fill(opts.defined ? 1 : 0),
      });
    }
    this.next += (n + 1) * PAGE; // leave a guard page
    return addr;
  }
  /** Like libxencall's buffers: page + 0x10, zero-filled and defined (fresh anonymous pages). */
  hypercallBuffer(len: number): number {
    return this.alloc(len + 0x10, { defined: true, fill: 0 }) + 0x10;
  }
  private page(addr: number) {
    return this.pages.get(Math.floor(addr / PAGE));
  }
  isMapped(addr: number, len: number): boolean {
    for (let a = addr; a < addr + len; a++) if (!this.page(a)) return false;
    return true;
  }
  read(addr: number, len: number): Uint8Array | undefined {
    if (!this.isMapped(addr, len)) return undefined;
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) { const p = this.page(addr + i)!; out[i] = p.data[(addr + i) % PAGE]; }
    return out;
  }
  /** Guest-side store: bytes become defined (the program wrote them). */
  write(addr: number, data: Uint8Array): boolean {
    if (!this.isMapped(addr, data.length)) return false;
    for (let i = 0; i < data.length; i++) { const p = this.page(addr + i)!; p.data[(addr + i) % PAGE] = data[i]; }
    return true;
  }
  /** A store by the program (marks defined), as opposed to a write by the hypervisor. */
  store(addr: number, data: Uint8Array): void {
    this.write(addr, data);
    this.setDefined(addr, data.length, true);
  }
  storeU(addr: number, size: number, v: bigint | number): void {
    let x = BigInt.asUintN(size * 8, BigInt(v));
    const b = new Uint8Array(size);
    for (let i = 0; i < size; i++) { b[i] = Number(x & 0xffn); x >>= 8n; }
    this.store(addr, b);
  }
  loadU(addr: number, size: number): bigint {
    const b = this.read(addr, size)!;
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    return v;
  }
  setDefined(addr: number, len: number, defined: boolean): void {
    for (let i = 0; i < len; i++) { const p = this.page(addr + i); if (p) p.defined[(addr + i) % PAGE] = defined ? 1 : 0; }
  }
  isDefined(addr: number, len: number): boolean {
    for (let i = 0; i < len; i++) { const p = this.page(addr + i); if (!p || !p.defined[(addr + i) % PAGE]) return false; }
    return true;
  }
  firstBad(addr: number, len: number, needDefined: boolean): { at: number; kind: 'unaddressable' | 'uninitialised' } | undefined {
    for (let i = 0; i < len; i++) {
      const p = this.page(addr + i);
      if (!p) return { at: addr + i, kind: 'unaddressable' };
      if (needDefined && !p.defined[(addr + i) % PAGE]) return { at: addr + i, kind: 'uninitialised' };
    }
    return undefined;
  }
}

/** What memcheck would print, minus the stack. */
export interface Report { kind: 'unaddressable' | 'uninitialised'; what: string; addr: number; offset: number }

/** A ParamChecker over FakeMemory recording reports in memcheck's wording. */
export class RecordingChecker implements ParamChecker {
  readonly reports: Report[] = [];
  readonly reads: Array<{ addr: number; len: number; what: string }> = [];
  constructor(private readonly mem: FakeMemory) {}
  preRead(addr: number, len: number, what: string): void {
    this.reads.push({ addr, len, what });
    const bad = this.mem.firstBad(addr, len, true);
    if (bad) this.reports.push({ kind: bad.kind, what, addr: bad.at, offset: bad.at - addr });
  }
  preWrite(addr: number, len: number, what: string): void {
    const bad = this.mem.firstBad(addr, len, false);
    if (bad) this.reports.push({ kind: bad.kind, what, addr: bad.at, offset: bad.at - addr });
  }
  postWrite(addr: number, len: number): void {
    this.mem.setDefined(addr, len, true);
  }
  /** Messages as memcheck words them. */
  messages(): string[] {
    return this.reports.map((r) => `Syscall param ${r.what} points to ${r.kind} byte(s)`);
  }
}
