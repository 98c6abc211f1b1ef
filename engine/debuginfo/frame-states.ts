/**
 * Stack unwinding that keeps each frame's registers and CFA, for a debugger: variables of caller
 * frames live in callee-saved registers or at offsets from the frame base (the CFA with gcc), and
 * a step over a call needs the identity (CFA) of the frame it started in. unwind.ts walks the same
 * CFI rules for reports, keeping only the pcs; this walker is slower and keeps everything.
 */
import { FrameRules, ModuleCfi, NUM_REGS, REG_RBP, REG_RIP, REG_RSP, RuleKind } from './cfi';
import { evaluate, ExprEnv, wordToNumber } from './dwarf-expr';
import type { Module, ModuleMap } from './modules';
import type { GuestMemory } from './unwind';

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
    return rules ? cfaOf(rules, regs, mem) : NaN;
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
      state.cfa = cfaOf(r, cur, mem);
      if (!applyRules(r, state.cfa, cur, next, mem)) break;
    } else if (!framePointerStep(cur, next, mem, state)) {
      break;
    }
    const signal = r !== undefined && r.signal;
    if (!signal && !(next[REG_RSP] > cur[REG_RSP])) break;
    cur = next;
    exact = signal;
  }
  return out;
}

function read(mem: GuestMemory, addr: number): number {
  if (!Number.isFinite(addr)) return NaN;
  const v = mem.readU64(addr);
  return v === undefined ? NaN : wordToNumber(v);
}

function env(regs: Float64Array, mem: GuestMemory, cfa: number): ExprEnv {
  return { reg: (r) => (r < NUM_REGS ? regs[r] : NaN), readU64: (a) => mem.readU64(a), cfa };
}

function cfaOf(rules: FrameRules, cur: Float64Array, mem: GuestMemory): number {
  if (rules.cfaReg >= 0) return cur[rules.cfaReg] + rules.cfaOffset;
  const res = evaluate(rules.cfaOps ?? [], env(cur, mem, NaN));
  if (!res) return NaN;
  return res.kind === 'memory' ? res.address : res.kind === 'value' ? res.value : cur[res.regno];
}

function applyRules(rules: FrameRules, cfa: number, cur: Float64Array, out: Float64Array, mem: GuestMemory): boolean {
  if (!Number.isFinite(cfa)) return false;
  for (let r = 0; r < NUM_REGS; r++) {
    const rule = rules.regs[r];
    switch (rule.kind) {
      case RuleKind.Same: out[r] = cur[r]; break;
      case RuleKind.Undefined: out[r] = NaN; break;
      case RuleKind.AtCfa: out[r] = read(mem, cfa + rule.offset); break;
      case RuleKind.ValCfa: out[r] = cfa + rule.offset; break;
      case RuleKind.Register: out[r] = rule.regno < NUM_REGS ? cur[rule.regno] : NaN; break;
      case RuleKind.Expr:
      case RuleKind.ValExpr: {
        const res = evaluate(rule.ops ?? [], env(cur, mem, cfa));
        if (!res) out[r] = NaN;
        else if (res.kind === 'value') out[r] = res.value;
        else if (res.kind === 'register') out[r] = res.regno < NUM_REGS ? cur[res.regno] : NaN;
        else out[r] = rule.kind === RuleKind.ValExpr ? res.address : read(mem, res.address);
        break;
      }
    }
  }
  if (Number.isNaN(out[REG_RSP])) out[REG_RSP] = cfa;
  if (rules.ra !== REG_RIP) out[REG_RIP] = rules.ra < NUM_REGS ? out[rules.ra] : NaN;
  return true;
}

function framePointerStep(cur: Float64Array, out: Float64Array, mem: GuestMemory, state: FrameState): boolean {
  const fp = cur[REG_RBP];
  if (!(fp >= cur[REG_RSP]) || fp % 8 !== 0) return false;
  out[REG_RBP] = read(mem, fp);
  out[REG_RIP] = read(mem, fp + 8);
  out[REG_RSP] = fp + 16;
  state.cfa = fp + 16;
  return Number.isFinite(out[REG_RIP]);
}
