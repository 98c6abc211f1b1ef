/**
 * Keeps libdw's view of the guest in step with its address space: the program and interpreter at
 * load, each ELF object the guest maps from a file (ld.so loading libraries), and removals at
 * munmap. Reporting to libdw is deferred until a stack is first needed, so runs that never print
 * one pay nothing.
 */
import { DWARF_REGS } from '../cpu/x86-const';
import { DebugInfo, StackFrame } from '../debuginfo/debuginfo';
import { GuestMemory, pageFloor, Region } from '../memory/guest-memory';
import type { Unicorn } from '../cpu/unicorn';

interface Pending { path: string; bias: number }

export class GuestDebugInfo {
  private info: DebugInfo | undefined;
  private pending: Pending[] = [];
  private readonly known = new Set<string>();

  constructor(private readonly mem: GuestMemory) {
    mem.listen({
      mapped: (r) => this.onMapped(r),
      unmapped: (start, end) => {
        this.pending = this.pending.filter((p) => !(p.bias >= start && p.bias < end));
        this.info?.removeModule(start, end);
      },
    });
  }

  /** Adds an object whose vaddr 0 lands at bias. */
  add(path: string, bias: number): void {
    const key = `${path}@${bias}`;
    if (this.known.has(key)) return;
    this.known.add(key);
    this.pending.push({ path, bias });
  }

  /** The libdw session, with every object reported so far. */
  get(): DebugInfo {
    if (!this.info) this.info = new DebugInfo();
    for (const p of this.pending.splice(0)) {
      try {
        this.info.reportModule(p.path, p.bias);
      } catch {
        // An object libdw cannot read still runs; its frames print as "???".
      }
    }
    return this.info;
  }

  /** The symbolized stack of a thread whose registers are loaded in uc. */
  stackOf(uc: Unicorn, maxFrames: number): StackFrame[] {
    const regs = new BigUint64Array(17);
    DWARF_REGS.forEach((r, i) => (regs[i] = uc.reg_read(r)));
    return this.get().stackTrace(regs, { readU64: (a: number) => this.readU64(a) }, maxFrames);
  }

  private readU64(a: number): bigint | undefined {
    const v = this.mem.view(a, 8);
    if (!v) return undefined;
    return new DataView(v.buffer, v.byteOffset, 8).getBigUint64(0, true);
  }

  // ld.so maps each library's first segment from file offset 0: that names the object and its bias.
  private onMapped(r: Region): void {
    if (r.fileOffset !== 0 || !r.name.startsWith('/')) return;
    const b = r.chunk.bytes;
    const o = r.chunkOffset;
    if (b[o] !== 0x7f || b[o + 1] !== 0x45 || b[o + 2] !== 0x4c || b[o + 3] !== 0x46) return;
    const dv = new DataView(b.buffer, b.byteOffset + o, Math.min(4096, r.end - r.start));
    const phoff = Number(dv.getBigUint64(32, true));
    const phnum = dv.getUint16(56, true);
    for (let i = 0; i < phnum && phoff + i * 56 + 56 <= dv.byteLength; i++) {
      if (dv.getUint32(phoff + i * 56, true) === 1 /* PT_LOAD */) {
        const vaddr = Number(dv.getBigUint64(phoff + i * 56 + 16, true));
        this.add(r.name, r.start - pageFloor(vaddr));
        return;
      }
    }
  }
}

