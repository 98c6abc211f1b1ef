/**
 * Source-level stepping, decided instruction by instruction by the runtime's instruction hook
 * while the run loop keeps running the guest (so system calls, signals and threads behave as in
 * a normal run). A frame is identified by its CFA:
 *
 * - next: stop at another line of the same frame (or when the frame is left); deeper frames
 *   (calls, recursion) and deeper inlined calls are run through: after a call only its return
 *   address is watched, so a long callee costs one comparison per instruction.
 * - step in: stop at the first line of a callee with line info as well; a callee without line
 *   info (PLT, libc without sources) is run through until it returns to its caller.
 * - step out: stop once the frame is gone; in an inlined frame, once the inline depth drops.
 */
import { DWARF_REGS, X86 } from '../engine/cpu/x86-const';
import type { DebugInfo } from '../engine/debuginfo/debuginfo';
import type { CfiRules, FrameState } from '../engine/debuginfo/frame-states';
import type { GuestProcess } from '../engine/process/guest-process';
import { memoryReader } from './stack';

export type StepKind = 'next' | 'in' | 'out';

/** Where a step started. */
interface Origin {
  kind: StepKind;
  thread: number;
  pc: number;
  sp: number;
  cfa: number;
  file: string | undefined;
  line: number | undefined;
  /** Inlined calls active at pc (0 = the physical function's own code). */
  depth: number;
  /** The physical function's code range. */
  start: number;
  end: number;
}

export class Stepper {
  private origin: Origin | undefined;
  /** Running through a callee without line info: ignore everything until it returns here. */
  private returnTo: { addr: number; sp: number } | undefined;
  /** Stepped into a function: run its prologue, stop where its body starts. */
  private bodyStart: number | undefined;
  private first = true;

  constructor(private readonly proc: GuestProcess, private readonly debug: () => DebugInfo, private readonly cfi: CfiRules) {}

  get active(): boolean {
    return this.origin !== undefined;
  }

  /** Starts a step of the current thread from its innermost frame (frames[0]), while stopped. */
  begin(kind: StepKind, frames: FrameState[]): void {
    const pc = this.proc.uc.reg_read_num(X86.RIP);
    const sym = this.debug().symbolAt(pc);
    const here = this.debug().symbolize(pc);
    this.origin = {
      kind, thread: this.proc.current.number, pc, sp: this.proc.uc.reg_read_num(X86.RSP), cfa: frames[0]?.cfa ?? NaN,
      file: here[0]?.file, line: here[0]?.line, depth: here.length - 1,
      start: sym ? sym.start : pc, end: sym ? sym.start + Math.max(sym.size, 1) : pc + 1,
    };
    this.returnTo = undefined;
    this.bodyStart = undefined;
    this.first = true;
  }

  /** Ends the step (the guest stopped, for whatever reason). */
  cancel(): void {
    this.origin = undefined;
    this.returnTo = undefined;
    this.bodyStart = undefined;
  }

  /** Called before each instruction while a step is active: true when the step has arrived at pc. */
  check(pc: number): boolean {
    const o = this.origin;
    if (!o || this.proc.current.number !== o.thread) return false;
    // The first instruction run is the one the step starts from.
    if (this.first) {
      this.first = false;
      if (pc === o.pc) return false;
    }
    if (this.bodyStart !== undefined) return pc === this.bodyStart;
    const sp = this.proc.uc.reg_read_num(X86.RSP);
    if (this.returnTo) {
      if (pc !== this.returnTo.addr || sp <= this.returnTo.sp) return false;
      this.returnTo = undefined; // back in the stepping frame, mid-line: go on looking for a new line
    }
    const cfa = this.cfaHere(pc);
    const outside = pc < o.start || pc >= o.end;
    const known = !Number.isNaN(cfa) && !Number.isNaN(o.cfa);
    if (known ? cfa > o.cfa : sp > o.sp && outside) return true; // the frame returned (or unwound)
    const frames = this.debug().symbolize(pc);
    const f = frames[0];
    if (known ? cfa < o.cfa : sp < o.sp && outside) {
      if (o.kind === 'in' && f?.line !== undefined) {
        // As gdb does, stop after the callee's prologue, on the first line of its body.
        const body = this.afterPrologue(pc);
        if (body === undefined) return true;
        this.bodyStart = body;
        return false;
      }
      // A call to run through (next, step out, or a callee without line info). This is its first
      // instruction, so [rsp] is the return address: only that address matters until it returns.
      const ret = memoryReader(this.proc).readU64(sp);
      if (ret !== undefined) this.returnTo = { addr: Number(ret), sp };
      return false;
    }
    const depth = frames.length - 1;
    if (o.kind === 'out') return depth < o.depth;
    if (o.kind === 'next' && depth > o.depth) return false;
    if (f?.line === undefined) return false;
    return f.line !== o.line || f.file !== o.file || depth !== o.depth;
  }

  /** Where the body of the function entered at pc starts, when DWARF says so (undefined: here). */
  private afterPrologue(pc: number): number | undefined {
    const sym = this.debug().symbolAt(pc);
    if (!sym || sym.start !== pc) return undefined;
    return this.debug().functionEntries(sym.name).find((a) => a > pc && a < sym.start + sym.size);
  }

  /** The CFA of the frame executing pc, from the current registers (NaN without CFI). */
  private cfaHere(pc: number): number {
    const rules = this.cfi.at(pc);
    if (!rules) return NaN;
    const uc = this.proc.uc;
    if (rules.cfaReg >= 0 && rules.cfaReg < DWARF_REGS.length) return uc.reg_read_num(DWARF_REGS[rules.cfaReg]) + rules.cfaOffset;
    const regs = new Float64Array(17);
    for (let i = 0; i < 17; i++) regs[i] = uc.reg_read_num(DWARF_REGS[i]);
    return this.cfi.cfaAt(pc, regs, memoryReader(this.proc));
  }
}
