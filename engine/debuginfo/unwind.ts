/**
 * Stack unwinding of a guest whose registers and memory live in JS, with CFI rules from libdw
 * evaluated in JS and cached per pc (approach B of /work/shared/reference/libdw.md §4).
 *
 * After warm-up an unwind makes no FFI call: module lookup is a JS binary search, the rules of
 * each pc come from a Map, and the only work is a few Number additions and the guest memory
 * reads of saved registers and return addresses. Registers are Numbers (user-space addresses are
 * below 2^47); NaN means "unknown in this frame".
 */
import { FrameRules, ModuleCfi, NUM_REGS, REG_RBP, REG_RIP, REG_RSP, RuleKind } from './cfi';
import { evaluate, ExprEnv, wordToNumber } from './dwarf-expr';
import type { Module, ModuleMap } from './modules';

/** Guest memory as the unwinder needs it. */
export interface GuestMemory {
  /** The 8 bytes at `addr`, or undefined when they are not readable. */
  readU64(addr: number): bigint | undefined;
  /** The same word as a Number (as wordToNumber converts it), NaN when unreadable: spares unwinds a BigInt per read. */
  readWord?(addr: number): number;
}

/** Registers that survive a call in the SysV x86-64 ABI (rbx rbp r12–r15). */
const CALLEE_SAVED = [3, 6, 12, 13, 14, 15];

/** Walks guest stacks over the modules of a ModuleMap. */
export class Unwinder {
  /**
   * Per module: its CFI tables and the rules by lookup address minus the module start (small
   * integers make faster Map keys than full addresses); null records "no CFI covers it".
   */
  private readonly perModule = new WeakMap<Module, { cfi: ModuleCfi | undefined; rules: Map<number, FrameRules | null> }>();
  private readonly a = new Float64Array(NUM_REGS);
  private readonly b = new Float64Array(NUM_REGS);

  constructor(private readonly modules: ModuleMap) {}

  /**
   * The pcs of the guest's frames, innermost first: frame 0 is `regs[16]` (rip), the others are
   * return addresses. Stops at a return address of 0/1, a frame that cannot be unwound (no CFI
   * and no usable frame pointer, or an undefined return address as in `_start`), a return address
   * outside every module (included, then stop), a stack pointer that does not move up, or
   * `maxFrames`.
   *
   * @param regs 17 registers in DWARF order: rax rdx rcx rbx rsi rdi rbp rsp r8–r15, rip.
   * @param exact if given, receives for each frame whether its pc is an exact instruction
   *   address (frame 0, and the frame interrupted by a signal) rather than a return address.
   * @param sps if given, receives each frame's stack pointer (rsp, then each caller's rsp after
   *   the return), which tells which frame a stack address belongs to.
   */
  unwind(regs: BigUint64Array, mem: GuestMemory, maxFrames: number, exact?: boolean[], sps?: number[]): number[] {
    let cur = this.a;
    let next = this.b;
    for (let r = 0; r < NUM_REGS; r++) cur[r] = wordToNumber(regs[r]);
    const pcs: number[] = [];
    let isExact = true;
    while (pcs.length < maxFrames) {
      const pc = cur[REG_RIP];
      // A return address of 0 or 1 ends the stack (Valgrind's convention), NaN is unknown; but
      // frame 0 is whatever rip is, even 0 after a call through a NULL pointer.
      if (!(pc > 1) && (pcs.length > 0 || Number.isNaN(pc))) break;
      pcs.push(pc);
      exact?.push(isExact);
      sps?.push(cur[REG_RSP]);
      if (pcs.length >= maxFrames) break;
      // A return address points after the call, possibly into the next function or past a
      // noreturn call's end: the rules of the call instruction are at pc - 1.
      const lookup = isExact ? pc : pc - 1;
      const mod = this.modules.find(lookup);
      let rules: FrameRules | undefined;
      let ok: boolean;
      if (mod) {
        rules = this.rulesAt(mod, lookup);
        ok = rules ? applyRules(rules, cur, next, mem) : framePointerStep(cur, next, mem);
      } else if (pcs.length === 1) {
        // rip outside every object: a call through a bad pointer. As Valgrind and gdb do, take
        // the word at rsp as the return address so the caller still shows.
        ok = returnAddressAtSp(cur, next, mem);
      } else {
        break;
      }
      if (!ok) break;
      const signal = rules !== undefined && rules.signal;
      // Callers live at higher addresses; a stack pointer that does not grow means garbage or a
      // loop. Signal frames may legitimately jump (alternate signal stack).
      if (!signal && !(next[REG_RSP] > cur[REG_RSP])) break;
      if (signal && next[REG_RSP] === cur[REG_RSP] && next[REG_RIP] === pc) break;
      const t = cur;
      cur = next;
      next = t;
      isExact = signal;
    }
    return pcs;
  }

  private rulesAt(mod: Module, addr: number): FrameRules | undefined {
    let pm = this.perModule.get(mod);
    if (!pm) {
      pm = { cfi: undefined, rules: new Map() };
      this.perModule.set(mod, pm);
    }
    const key = addr - mod.start;
    const hit = pm.rules.get(key);
    if (hit !== undefined) return hit ?? undefined;
    if (!pm.cfi) pm.cfi = new ModuleCfi(mod.handle);
    const r = pm.cfi.rulesAt(addr);
    pm.rules.set(key, r ?? null);
    return r;
  }
}

function read(mem: GuestMemory, addr: number): number {
  if (!Number.isFinite(addr)) return NaN;
  if (mem.readWord) return mem.readWord(addr);
  const v = mem.readU64(addr);
  return v === undefined ? NaN : wordToNumber(v);
}

/** Computes the caller's registers `out` from the callee's `cur` with CFI rules. */
function applyRules(rules: FrameRules, cur: Float64Array, out: Float64Array, mem: GuestMemory): boolean {
  return applyFrameRules(rules, frameCfa(rules, cur, mem), cur, out, mem);
}

/** The canonical frame address of the frame whose registers are cur (NaN when not computable). */
export function frameCfa(rules: FrameRules, cur: Float64Array, mem: GuestMemory): number {
  if (rules.cfaReg >= 0) return cur[rules.cfaReg] + rules.cfaOffset;
  const res = evaluate(rules.cfaOps ?? [], exprEnv(cur, mem, NaN));
  // A CFA expression yields the CFA itself: its "location" is the value.
  return res === undefined ? NaN : res.kind === 'memory' ? res.address : res.kind === 'value' ? res.value : cur[res.regno];
}

/** The caller's registers `out` from the callee's `cur`, given the frame's rules and CFA; false when the CFA is unknown. */
export function applyFrameRules(rules: FrameRules, cfa: number, cur: Float64Array, out: Float64Array, mem: GuestMemory): boolean {
  if (!Number.isFinite(cfa)) return false;
  const regs = rules.regs;
  // Most registers keep their value ("same value"): copy them all, then apply the other rules.
  out.set(cur);
  const changed = rules.changed;
  for (let i = 0; i < changed.length; i++) {
    const r = changed[i];
    const rule = regs[r];
    switch (rule.kind) {
      case RuleKind.Undefined: out[r] = NaN; break;
      case RuleKind.AtCfa: out[r] = read(mem, cfa + rule.offset); break;
      case RuleKind.ValCfa: out[r] = cfa + rule.offset; break;
      case RuleKind.Register: out[r] = rule.regno < NUM_REGS ? cur[rule.regno] : NaN; break;
      case RuleKind.Expr:
      case RuleKind.ValExpr: out[r] = exprRule(rule.ops ?? [], rule.kind === RuleKind.ValExpr, cur, mem, cfa); break;
    }
  }
  // On x86-64 the CFA is by definition the caller's rsp; libdw's ABI rules say so too, but an
  // FDE may leave rsp unmentioned.
  if (Number.isNaN(out[REG_RSP])) out[REG_RSP] = cfa;
  if (rules.ra !== REG_RIP) out[REG_RIP] = rules.ra < NUM_REGS ? out[rules.ra] : NaN;
  return true;
}

function exprRule(ops: NonNullable<FrameRules['cfaOps']>, isValue: boolean, cur: Float64Array, mem: GuestMemory, cfa: number): number {
  // libdw prepends DW_OP_call_frame_cfa to register expressions, as the DWARF spec's implicit push.
  const res = evaluate(ops, exprEnv(cur, mem, cfa));
  if (res === undefined) return NaN;
  if (res.kind === 'value') return res.value;
  if (res.kind === 'register') return res.regno < NUM_REGS ? cur[res.regno] : NaN;
  return isValue ? res.address : read(mem, res.address);
}

function exprEnv(cur: Float64Array, mem: GuestMemory, cfa: number): ExprEnv {
  return {
    reg: (r) => (r < NUM_REGS ? cur[r] : NaN),
    readU64: (addr) => mem.readU64(addr),
    cfa,
  };
}

/** Caller state when there is no CFI: the classic `push rbp; mov rbp, rsp` frame chain. */
export function framePointerStep(cur: Float64Array, out: Float64Array, mem: GuestMemory): boolean {
  const fp = cur[REG_RBP];
  const sp = cur[REG_RSP];
  // The frame pointer of a live frame lies above its stack pointer; anything else is not a chain.
  if (!(fp >= sp) || fp % 8 !== 0) return false;
  out.fill(NaN);
  out[REG_RBP] = read(mem, fp);
  out[REG_RIP] = read(mem, fp + 8);
  out[REG_RSP] = fp + 16;
  return Number.isFinite(out[REG_RIP]);
}

/** Caller state for a frame that has not pushed anything yet: return address at [rsp]. */
function returnAddressAtSp(cur: Float64Array, out: Float64Array, mem: GuestMemory): boolean {
  const sp = cur[REG_RSP];
  out.fill(NaN);
  for (const r of CALLEE_SAVED) out[r] = cur[r];
  out[REG_RIP] = read(mem, sp);
  out[REG_RSP] = sp + 8;
  return Number.isFinite(out[REG_RIP]);
}
