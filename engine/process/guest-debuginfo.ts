/**
 * Keeps libdw's view of the guest in step with its address space: the program and interpreter at
 * load, each ELF object the guest maps from a file (ld.so loading libraries), and removals at
 * munmap. Reporting to libdw is deferred until a stack is first needed, so runs that never print
 * one pay nothing.
 */
import { DWARF_REGS } from '../cpu/x86-const';
import { DebugInfo, DebugInfoOptions, StackFrame } from '../debuginfo/debuginfo';
import { wordToNumber } from '../debuginfo/dwarf-expr';
import { GuestMemory, pageFloor, Region } from '../memory/guest-memory';
import type { Unicorn } from '../cpu/unicorn';

interface Pending { path: string; bias: number }

/** Called when an object is reported to libdw (redirection looks for malloc & co there). */
export type ModuleListener = (path: string, bias: number, info: DebugInfo) => void;

export class GuestDebugInfo {
  private info: DebugInfo | undefined;
  private pending: Pending[] = [];
  private readonly known = new Set<string>();
  private readonly moduleListeners: ModuleListener[] = [];
  private readonly regs = new BigUint64Array(17);

  /** @param options for libdw's session, created when first needed (`debugInfoPath`: --extra-debuginfo-path). */
  constructor(private readonly mem: GuestMemory, private readonly options: DebugInfoOptions = {}) {
    mem.listen({
      mapped: (r) => {
        this.wordRegion = undefined;
        this.onMapped(r);
      },
      protected: () => {
        this.wordRegion = undefined;
      },
      // An object is gone when the page holding its start is unmapped; ld.so's MAP_FIXED
      // mappings of segments over a library's first mapping unmap other parts of it.
      unmapped: (start, end) => {
        this.wordRegion = undefined;
        this.pending = this.pending.filter((p) => !(p.bias >= start && p.bias < end));
        for (const m of this.info?.modules() ?? []) {
          if (m.start >= start && m.start < end) {
            this.info!.removeModule(m.start);
            this.known.delete(`${m.path}@${m.bias}`);
          }
        }
      },
    });
  }

  /** Adds an object whose vaddr 0 lands at bias. */
  add(path: string, bias: number): void {
    const key = `${path}@${bias}`;
    if (this.known.has(key)) return;
    this.known.add(key);
    this.pending.push({ path, bias });
    // Tools that act on symbols need the object now, before its code runs.
    if (this.moduleListeners.length) this.get();
  }

  /** Reports objects to libdw as they appear and tells l (for objects already known too). */
  onModule(l: ModuleListener): void {
    this.moduleListeners.push(l);
    const info = this.get();
    for (const m of info.modules()) l(m.path, m.bias, info);
  }

  /** The libdw session, with every object reported so far. */
  get(): DebugInfo {
    if (!this.info) this.info = new DebugInfo(this.options);
    const info = this.info;
    for (const p of this.pending.splice(0)) {
      try {
        info.reportModule(p.path, p.bias);
      } catch {
        // An object libdw cannot read still runs; its frames print as "???".
        continue;
      }
      for (const l of this.moduleListeners) l(p.path, p.bias, info);
    }
    return info;
  }

  /** The symbolized stack of the thread whose registers are loaded in uc. */
  stackOf(uc: Unicorn, maxFrames: number): StackFrame[] {
    return this.frames(this.pcsOf(uc, maxFrames));
  }

  /** The stack of the loaded thread as addresses only (see DebugInfo.stackPcs). */
  pcsOf(uc: Unicorn, maxFrames: number): number[] {
    const regs = this.regs;
    for (let i = 0; i < 17; i++) regs[i] = uc.reg_read(DWARF_REGS[i]);
    return this.get().stackPcs(regs, this.reader, maxFrames);
  }

  /**
   * The stack of any thread as addresses (as pcsOf) with each frame's stack pointer; `reg` reads
   * the thread's registers by Unicorn register id (from the CPU, or from a saved context).
   */
  pcsAndSps(reg: (ucReg: number) => bigint, maxFrames: number): { pcs: number[]; sps: number[] } {
    const regs = this.regs;
    for (let i = 0; i < 17; i++) regs[i] = reg(DWARF_REGS[i]);
    const sps: number[] = [];
    const pcs = this.get().stackPcs(regs, this.reader, maxFrames, sps);
    return { pcs, sps };
  }

  /**
   * The stack of a thread stopped at the first instruction of a function (a replaced function's
   * entry): the entry itself, then its caller's stack unwound from the return address at [rsp].
   * Works where the entry has no unwind info of its own (engine stubs). `reg` reads the
   * thread's registers by Unicorn register id.
   */
  pcsAtEntry(reg: (ucReg: number) => bigint, entry: number, maxFrames: number): number[] {
    const regs = this.regs;
    for (let i = 0; i < 17; i++) regs[i] = reg(DWARF_REGS[i]);
    const rsp = wordToNumber(regs[7]);
    const ret = this.readWord(rsp);
    if (Number.isNaN(ret) || maxFrames < 2) return [entry];
    regs[16] = BigInt(ret);
    regs[7] = BigInt(rsp + 8);
    const callers = this.get().stackPcs(regs, this.reader, maxFrames - 1);
    // The caller's frame is a return address: look up the call instruction, as for any caller.
    if (callers.length) callers[0] = callers[0] - 1;
    callers.unshift(entry);
    return callers;
  }

  /** Frames for addresses recorded by pcsOf. */
  frames(pcs: readonly number[]): StackFrame[] {
    return this.get().framesForPcs(pcs);
  }

  private readonly reader = { readU64: (a: number): bigint | undefined => this.readU64(a), readWord: (a: number): number => this.readWord(a) };

  /** The region the last word came from, and a view of its host chunk (an unwind reads one stack). */
  private wordRegion: Region | undefined;
  private wordView: DataView | undefined;

  private readWord(a: number): number {
    let r = this.wordRegion;
    let dv = this.wordView;
    if (!r || !dv || a < r.start || a + 8 > r.end) {
      r = this.mem.find(a);
      if (!r || a + 8 > r.end) {
        const v = this.readU64(a);
        return v === undefined ? NaN : wordToNumber(v);
      }
      const b = r.chunk.bytes;
      dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      this.wordRegion = r;
      this.wordView = dv;
    }
    const o = r.chunkOffset + (a - r.start);
    const hi = dv.getUint32(o + 4, true);
    return hi < 0x200000 ? hi * 0x100000000 + dv.getUint32(o, true) : wordToNumber(dv.getBigUint64(o, true));
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

