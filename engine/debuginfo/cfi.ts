/**
 * Call-frame information from libdw, decoded into plain JS rules.
 *
 * libdw parses .eh_frame/.debug_frame and runs the CFA program up to an address
 * (`dwarf_cfi_addrframe`); this file turns its answer (a CFA expression and one rule per
 * register) into a `FrameRules` object that the unwinder evaluates in JS, so a cached pc costs no
 * FFI call at all. Registers use the x86-64 DWARF numbering: rax rdx rcx rbx rsi rdi rbp rsp
 * r8–r15, return address (rip) = 16.
 */
import {
  decodeOps, DW_OP_bregx, DW_OP_breg0, DW_OP_call_frame_cfa, DW_OP_plus_uconst, DW_OP_regx, DW_OP_stack_value, DwarfOp,
} from './dwarf-expr';
import { allocStable, libdw, SIZEOF_OP } from './libdw';

/** Number of registers the unwinder tracks (DWARF 0..16). */
export const NUM_REGS = 17;
export const REG_RSP = 7;
export const REG_RBP = 6;
export const REG_RIP = 16;

/** How a caller's register is recovered. */
export const enum RuleKind {
  /** Unchanged from the callee frame. */
  Same,
  /** Not recoverable. */
  Undefined,
  /** Saved in memory at CFA + offset. */
  AtCfa,
  /** Equal to CFA + offset. */
  ValCfa,
  /** Copied from another register (regno). */
  Register,
  /** Saved at the address a DWARF expression computes (CFA pushed first). */
  Expr,
  /** Equal to the value a DWARF expression computes (CFA pushed first). */
  ValExpr,
}

export interface RegRule {
  readonly kind: RuleKind;
  readonly offset: number;
  readonly regno: number;
  readonly ops: readonly DwarfOp[] | undefined;
}

/** The unwind rules valid for one pc (and the whole [start, end) range libdw reported). */
export interface FrameRules {
  /** CFA = reg(cfaReg) + cfaOffset, or the value of cfaOps when cfaReg < 0. */
  readonly cfaReg: number;
  readonly cfaOffset: number;
  readonly cfaOps: readonly DwarfOp[] | undefined;
  /** One rule per register 0..16. */
  readonly regs: readonly RegRule[];
  /** The registers whose rule is not Same, in order (an unwind copies the others as they are). */
  readonly changed: Uint8Array;
  /** Return-address column (16 on x86-64). */
  readonly ra: number;
  /** The FDE is a signal trampoline ('S' augmentation): its caller's pc is exact, not a return address. */
  readonly signal: boolean;
  /** Absolute address range in which these rules hold. */
  readonly start: number;
  readonly end: number;
}

/** One CFI table (`Dwarf_CFI *`) and the bias of its addresses. */
interface CfiTable {
  readonly cfi: bigint;
  readonly bias: number;
}

/**
 * A module's CFI: .eh_frame first, as libdwfl's own unwinder does (it is in the loaded object and
 * matches the code), then .debug_frame for the gaps. The latter may live in the separate debug
 * file, whose lookup and loading cost tens of milliseconds for libc, so it is only fetched when
 * .eh_frame does not cover an address.
 */
export class ModuleCfi {
  private eh: CfiTable | null | undefined;
  private dwarf: CfiTable | null | undefined;

  constructor(private readonly handle: bigint) {}

  /**
   * The rules for absolute address `addr`, from the first table that covers it; undefined when
   * none does (or the CFI is corrupt: the unwinder then falls back or stops, it never throws).
   */
  rulesAt(addr: number): FrameRules | undefined {
    if (this.eh === undefined) this.eh = table(this.handle, false);
    const r = this.eh ? rulesFrom(this.eh.cfi, this.eh.bias, addr) : undefined;
    if (r) return r;
    if (this.dwarf === undefined) this.dwarf = table(this.handle, true);
    return this.dwarf ? rulesFrom(this.dwarf.cfi, this.dwarf.bias, addr) : undefined;
  }

  /** Which tables were found so far (for tests and diagnostics). */
  get tables(): { eh: boolean | undefined; debugFrame: boolean | undefined } {
    return {
      eh: this.eh === undefined ? undefined : this.eh !== null,
      debugFrame: this.dwarf === undefined ? undefined : this.dwarf !== null,
    };
  }
}

function table(handle: bigint, debugFrame: boolean): CfiTable | null {
  const dw = libdw();
  const bias = new BigUint64Array(1);
  const cfi = debugFrame ? dw.dwfl_module_dwarf_cfi(handle, bias) : dw.dwfl_module_eh_cfi(handle, bias);
  return cfi ? { cfi, bias: Number(bias[0]) } : null;
}

const SAME: RegRule = { kind: RuleKind.Same, offset: 0, regno: 0, ops: undefined };
const UNDEFINED: RegRule = { kind: RuleKind.Undefined, offset: 0, regno: 0, ops: undefined };

/**
 * SysV x86-64 callee-saved registers. elfutils 0.188's ABI initial rules
 * (backends/x86_64_cfi.c) declare register 0 (rax) same_value where rbx (3) was meant, so libdw
 * reports rbx as undefined and rax as same_value in every frame whose FDE does not mention them.
 * We cannot tell "unspecified" from "undefined" through the API, so the ABI is restored here:
 * callee-saved undefined → same value, caller-saved same value → undefined.
 */
const CALLEE_SAVED = new Set([3, 6, 12, 13, 14, 15]);
const CALLER_SAVED = new Set([0, 1, 2, 4, 5, 8, 9, 10, 11]);

let opsMem: bigint | undefined;
const frameOut = new BigUint64Array(1);
const startOut = new BigUint64Array(1);
const endOut = new BigUint64Array(1);
const signalOut = new Uint8Array(1);
const opsOut = new BigUint64Array(1);
const nopsOut = new BigUint64Array(1);

function rulesFrom(cfi: bigint, bias: number, addr: number): FrameRules | undefined {
  const dw = libdw();
  frameOut[0] = 0n;
  if (dw.dwarf_cfi_addrframe(cfi, addr - bias, frameOut) !== 0 || frameOut[0] === 0n) return undefined;
  const frame = frameOut[0];
  try {
    const ra = dw.dwarf_frame_info(frame, startOut, endOut, signalOut);
    if (ra < 0) return undefined;
    if (dw.dwarf_frame_cfa(frame, opsOut, nopsOut) !== 0) return undefined;
    const cfaOps = decodeOps(opsOut[0], Number(nopsOut[0]));
    let cfaReg = -1;
    let cfaOffset = 0;
    if (cfaOps.length === 1 && cfaOps[0].atom === DW_OP_bregx) {
      cfaReg = cfaOps[0].number;
      cfaOffset = cfaOps[0].number2;
    } else if (cfaOps.length === 1 && cfaOps[0].atom >= DW_OP_breg0 && cfaOps[0].atom < DW_OP_breg0 + 32) {
      cfaReg = cfaOps[0].atom - DW_OP_breg0;
      cfaOffset = cfaOps[0].number;
    }
    const regs: RegRule[] = [];
    for (let r = 0; r < NUM_REGS; r++) regs.push(fixAbi(r, registerRule(frame, r)));
    return {
      cfaReg,
      cfaOffset,
      cfaOps: cfaReg < 0 ? cfaOps : undefined,
      regs,
      changed: Uint8Array.from(regs.flatMap((rule, r) => (rule.kind === RuleKind.Same ? [] : [r]))),
      ra,
      signal: signalOut[0] !== 0,
      start: Number(startOut[0]) + bias,
      end: Number(endOut[0]) + bias,
    };
  } finally {
    dw.free(frame);
  }
}

function registerRule(frame: bigint, regno: number): RegRule {
  const dw = libdw();
  if (opsMem === undefined) opsMem = allocStable(3 * SIZEOF_OP);
  opsOut[0] = 0n;
  nopsOut[0] = 0n;
  const isValue = dw.dwarf_frame_register(frame, regno, opsMem, opsOut, nopsOut);
  if (isValue < 0) return UNDEFINED;
  const n = Number(nopsOut[0]);
  // libdw's encoding: no ops and a NULL pointer = same value; no ops but a pointer = undefined.
  if (n === 0) return opsOut[0] === 0n ? SAME : UNDEFINED;
  const ops = decodeOps(opsOut[0], n);
  // Recognise the shapes libdw produces for the common rules, so that they are evaluated without
  // the expression machine: offset(N) = [cfa, plus_uconst N]; val_offset(N) = the same with a
  // trailing stack_value (or a "value" return); register(R) = [regx R].
  let m = n;
  let value = isValue === 1;
  if (ops[m - 1].atom === DW_OP_stack_value) {
    m--;
    value = true;
  }
  if (m >= 1 && ops[0].atom === DW_OP_call_frame_cfa && (m === 1 || (m === 2 && ops[1].atom === DW_OP_plus_uconst))) {
    const offset = m === 2 ? ops[1].number : 0;
    return { kind: value ? RuleKind.ValCfa : RuleKind.AtCfa, offset, regno: 0, ops: undefined };
  }
  if (m === 1 && n === 1 && ops[0].atom === DW_OP_regx && !value) {
    return { kind: RuleKind.Register, offset: 0, regno: ops[0].number, ops: undefined };
  }
  return { kind: value ? RuleKind.ValExpr : RuleKind.Expr, offset: 0, regno: 0, ops };
}

function fixAbi(regno: number, rule: RegRule): RegRule {
  if (rule.kind === RuleKind.Undefined && CALLEE_SAVED.has(regno)) return SAME;
  if (rule.kind === RuleKind.Same && CALLER_SAVED.has(regno)) return UNDEFINED;
  return rule;
}
