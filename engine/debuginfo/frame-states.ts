/**
 * Stack unwinding that keeps each frame's registers and CFA, for a debugger: variables of caller
 * frames live in callee-saved registers or at offsets from the frame base (the CFA with gcc), and
 * a step over a call needs the identity (CFA) of the frame it started in. unwind.ts walks the same
 * CFI rules for reports, keeping only the pcs; this walker is slower and keeps everything.
 */
import { FrameRules, ModuleCfi, NUM_REGS, REG_RIP, REG_RSP } from './cfi';
import { wordToNumber } from './dwarf-expr';
import type { Module, ModuleMap } from './modules';
import { applyFrameRules, frameCfa, framePointerStep, GuestMemory } from './unwind';

/** One frame of a stack: its pc and the registers known in it (NaN: not recoverable). */
export interface FrameState {
  /** The frame's pc: rip for frame 0 (and signal frames), the return address for callers. */
  pc: number;
  /** True when pc is an instruction about to execute rather than a return address. */
  exact: boolean;
  /** DWARF registers 0..16 (rax rdx rcx rbx rsi rdi rbp rsp r8–r15 rip). */
  regs: Float64Array;
  /** Canonical frame address (the caller's rsp before the call), NaN when unknown. */
  cfa: number;
}

/** CFI rules per module and address, cached. */
export class CfiRules {
  private readonly perModule = new WeakMap<Module, { cfi: ModuleCfi; rules: Map<number, FrameRules | null> }>();

  constructor(private readonly modules: ModuleMap) {}

  /** The rules for absolute address addr, if CFI covers it. */
  at(addr: number): FrameRules | undefined {
    const mod = this.modules.find(addr);
    if (!mod) return undefined;
    let pm = this.perModule.get(mod);
    if (!pm) {
      pm = { cfi: new ModuleCfi(mod.handle), rules: new Map() };
      this.perModule.set(mod, pm);
    }
    const hit = pm.rules.get(addr);
    if (hit !== undefined) return hit ?? undefined;
    const r = pm.cfi.rulesAt(addr);
    pm.rules.set(addr, r ?? null);
    return r;
  }

  /** The CFA of the frame whose registers are regs, at an exact pc (stepping uses it as the frame's identity). */
  cfaAt(pc: number, regs: Float64Array, mem: GuestMemory): number {
    const rules = this.at(pc);
    return rules ? frameCfa(rules, regs, mem) : NaN;
  }
}

/**
 * The frames of a thread, innermost first, with the same stopping rules as the report unwinder:
 * a return address of 0/1, no CFI (then the rbp chain is tried), a stack pointer that does not
 * grow, or maxFrames.
 */
export function unwindStates(rules: CfiRules, regs: BigUint64Array, mem: GuestMemory, maxFrames: number): FrameState[] {
  let cur = new Float64Array(NUM_REGS);
  for (let r = 0; r < NUM_REGS; r++) cur[r] = wordToNumber(regs[r]);
  const out: FrameState[] = [];
  let exact = true;
  while (out.length < maxFrames) {
    const pc = cur[REG_RIP];
    if (!(pc > 1) && (out.length > 0 || Number.isNaN(pc))) break;
    const state: FrameState = { pc, exact, regs: cur, cfa: NaN };
    out.push(state);
    const lookup = exact ? pc : pc - 1;
    const r = rules.at(lookup);
    const next = new Float64Array(NUM_REGS).fill(NaN);
    if (r) {
      state.cfa = frameCfa(r, cur, mem);
      if (!applyFrameRules(r, state.cfa, cur, next, mem)) break;
    } else if (framePointerStep(cur, next, mem)) {
      state.cfa = next[REG_RSP];
    } else {
      break;
    }
    const signal = r !== undefined && r.signal;
    if (!signal && !(next[REG_RSP] > cur[REG_RSP])) break;
    cur = next;
    exact = signal;
  }
  return out;
}
