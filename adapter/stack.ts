/**
 * The stack a stop shows: for a breakpoint, step or pause the live stack of the thread, unwound
 * with its registers; for an error the error's own stack (the faulting line on top, as Valgrind
 * printed it), each of its frames tied to the live frame with the same address when there is one,
 * so that locals still show. Inlined calls are frames of their own, as in Valgrind's reports.
 */
import * as path from 'path';
import { DWARF_REGS } from '../engine/cpu/x86-const';
import type { DebugInfo, StackFrame } from '../engine/debuginfo/debuginfo';
import type { FrameState } from '../engine/debuginfo/frame-states';
import type { VariableReader } from '../engine/debuginfo/variables';
import type { ErrorFrame } from '../engine/errors/error-record';
import { ipGroups, printedFrames } from '../engine/errors/stack';
import type { GuestProcess } from '../engine/process/guest-process';
import type { Thread } from '../engine/process/thread';

/** How many physical frames a live stack shows at most. */
const MAX_FRAMES = 100;

/** One frame of a stopped thread, as the debugger shows it. */
export interface RuntimeFrame {
  id: number;
  /** Function name, or the address and object when there is no symbol. */
  name: string;
  /** Source file (absolute when the debug info says where it is) and 1-based line. */
  file?: string;
  line?: number;
  /** The address Valgrind would print: the exact pc for the top frame, return address - 1 for callers. */
  ip: number;
  /** The loaded object. */
  module?: string;
  inlined: boolean;
  /** The live frame whose registers this frame's variables are read from, and its inline level (0 innermost). */
  state?: FrameState;
  level: number;
}

/** Registers of a thread in DWARF order (rax rdx rcx rbx rsi rdi rbp rsp r8–r15 rip). */
export function threadRegisters(proc: GuestProcess, t: Thread): BigUint64Array {
  const regs = new BigUint64Array(17);
  for (let i = 0; i < 17; i++) {
    regs[i] = t === proc.current || !t.ctx ? proc.uc.reg_read(DWARF_REGS[i]) : proc.uc.context_reg_read(t.ctx, DWARF_REGS[i]);
  }
  return regs;
}

/** Guest memory as the unwinder reads it. */
export function memoryReader(proc: GuestProcess): { readU64(a: number): bigint | undefined } {
  return {
    readU64: (a: number) => {
      const v = proc.mem.view(a, 8);
      return v ? new DataView(v.buffer, v.byteOffset, 8).getBigUint64(0, true) : undefined;
    },
  };
}

/** Builds frames and hands out their ids (unique within one stop). */
export class FrameBuilder {
  private nextId = 1;
  private readonly byId = new Map<number, RuntimeFrame>();

  constructor(private readonly proc: GuestProcess, private readonly debug: DebugInfo, private readonly vars: VariableReader) {}

  /** The frame with this id, from any stack built since the last reset. */
  get(id: number): RuntimeFrame | undefined {
    return this.byId.get(id);
  }

  /** Forgets every frame (the guest moved on). */
  reset(): void {
    this.byId.clear();
  }

  /** The live frames of a thread with their register states. */
  liveStates(t: Thread): FrameState[] {
    return this.vars.frames(threadRegisters(this.proc, t), memoryReader(this.proc), MAX_FRAMES);
  }

  /** The live stack of a thread, inlined calls expanded. */
  live(t: Thread): RuntimeFrame[] {
    const out: RuntimeFrame[] = [];
    for (const state of this.liveStates(t)) {
      const ip = state.exact ? state.pc : state.pc - 1;
      this.debug.symbolize(ip).forEach((f, level) => out.push(this.frame(f, state, level)));
    }
    return out;
  }

  /**
   * An error's stack as Valgrind printed it. Each frame gets the live frame of the same address
   * (the thread is stopped right at the error), whose registers its variables are read with.
   */
  ofError(stack: readonly ErrorFrame[], t: Thread | undefined): RuntimeFrame[] {
    const states = t ? this.liveStates(t) : [];
    const byIp = new Map<number, FrameState>();
    for (const s of states) {
      const ip = s.exact ? s.pc : s.pc - 1;
      if (!byIp.has(ip)) byIp.set(ip, s);
    }
    const out: RuntimeFrame[] = [];
    ipGroups(printedFrames(stack)).forEach((group, i) => {
      const ip = group[group.length - 1].ip;
      // The guest stops just after the instruction that erred: the top frame is the live one
      // when it is still in the same function.
      const state = byIp.get(ip) ?? (i === 0 && states[0] && this.sameFunction(ip, states[0].pc) ? states[0] : undefined);
      group.forEach((f, level) => out.push(this.frame(f, state, level)));
    });
    return out;
  }

  private sameFunction(a: number, b: number): boolean {
    const sa = this.debug.symbolAt(a);
    return sa !== undefined && sa.start === this.debug.symbolAt(b)?.start;
  }

  private frame(f: StackFrame, state: FrameState | undefined, level: number): RuntimeFrame {
    const r: RuntimeFrame = {
      id: this.nextId++,
      name: f.fn ?? `0x${f.ip.toString(16)}${f.obj ? ` (in ${path.basename(f.obj)})` : ''}`,
      ip: f.ip,
      inlined: f.inlined === true,
      level,
    };
    if (f.file !== undefined) r.file = f.dir !== undefined && !path.isAbsolute(f.file) ? path.join(f.dir, f.file) : f.file;
    if (f.line !== undefined) r.line = f.line;
    if (f.obj !== undefined) r.module = f.obj;
    if (state) r.state = state;
    this.byId.set(r.id, r);
    return r;
  }
}
