/**
 * Which arithmetic flags each instruction leaves architecturally undefined (Intel SDM, per
 * instruction) and which it reads, so that the differential tests compare only what the CPU
 * defines and skip cases whose results depend on an undefined flag. Some depend on the state
 * before the instruction (a shift count in CL), hence the GuestState argument.
 */
import { CC, F, OSZAPC } from '../../../engine/jit/flags';
import { GuestState } from '../../../engine/jit/guest-state';
import type { Insn } from '../../../engine/jit/lift/decode';

export interface FlagEffect {
  /** Flags the instruction writes (defined or not). */
  readonly writes: bigint;
  /** Of those, the ones left undefined. */
  readonly undef: bigint;
  /** Flags whose value the instruction uses. */
  readonly reads: bigint;
}

const NONE: FlagEffect = { writes: 0n, undef: 0n, reads: 0n };
const ARITH: FlagEffect = { writes: OSZAPC, undef: 0n, reads: 0n };
const { O, S, Z, A, P, C } = F;

/** Flags read by condition code cc. */
export function condReads(cc: number): bigint {
  switch (cc >> 1) {
    case CC.O >> 1: return O;
    case CC.B >> 1: return C;
    case CC.Z >> 1: return Z;
    case CC.BE >> 1: return C | Z;
    case CC.S >> 1: return S;
    case CC.P >> 1: return P;
    case CC.L >> 1: return S | O;
    default: return Z | S | O;
  }
}

/** Byte size of operand i (0 for relative targets). */
const opSize = (insn: Insn, i: number): number => {
  const o = insn.ops[i];
  return o && o.k !== 'rel' ? o.size : 0;
};

function shiftCount(insn: Insn, st: GuestState): number {
  const o = insn.ops[1];
  const raw = o.k === 'imm' ? o.raw : Number(st.gpr(1) & 0xffn);
  return raw & (opSize(insn, 0) === 8 ? 63 : 31);
}

/** The flag effect of one instruction about to run from state st. */
export function flagEffect(insn: Insn, st: GuestState): FlagEffect {
  const width = (opSize(insn, 0) || insn.opsize) * 8;
  switch (insn.mnem) {
    case 'cmps': case 'scas':
      // A repeated compare with rcx = 0 does nothing.
      return insn.rep && st.gpr(1) === 0n ? NONE : ARITH;
    case 'add': case 'adc': case 'sub': case 'sbb': case 'cmp': case 'neg': case 'xadd': case 'cmpxchg':
      return { ...ARITH, reads: insn.mnem === 'adc' || insn.mnem === 'sbb' ? C : 0n };
    case 'and': case 'or': case 'xor': case 'test':
      return { writes: OSZAPC, undef: A, reads: 0n };
    case 'inc': case 'dec':
      return { writes: O | S | Z | A | P, undef: 0n, reads: 0n };
    case 'shl': case 'shr': case 'sar': {
      const n = shiftCount(insn, st);
      if (n === 0) return NONE;
      let undef = A | (n !== 1 ? O : 0n);
      if (insn.mnem !== 'sar' && n >= width) undef |= C;
      return { writes: OSZAPC, undef, reads: 0n };
    }
    case 'shld': case 'shrd': {
      const o = insn.ops[2];
      const n = (o.k === 'imm' ? o.raw : Number(st.gpr(1) & 0xffn)) & (opSize(insn, 0) === 8 ? 63 : 31);
      if (n === 0) return NONE;
      return { writes: OSZAPC, undef: A | (n !== 1 ? O : 0n), reads: 0n };
    }
    case 'rol': case 'ror': {
      const n = shiftCount(insn, st);
      if (n === 0) return NONE;
      return { writes: O | C, undef: n !== 1 ? O : 0n, reads: 0n };
    }
    case 'mul': case 'imul1': case 'imul2': case 'imul3':
      return { writes: OSZAPC, undef: S | Z | A | P, reads: 0n };
    case 'div': case 'idiv':
      return { writes: OSZAPC, undef: OSZAPC, reads: 0n };
    case 'bt': case 'bts': case 'btr': case 'btc':
      return { writes: O | S | A | P | C, undef: O | S | A | P, reads: 0n };
    case 'bsf': case 'bsr':
      return { writes: OSZAPC, undef: O | S | A | P | C, reads: 0n };
    case 'ucomisd': case 'ucomiss': case 'popf':
      return ARITH;
    case 'sahf':
      return { writes: S | Z | A | P | C, undef: 0n, reads: 0n };
    case 'clc': case 'stc':
      return { writes: C, undef: 0n, reads: 0n };
    case 'cmc':
      return { writes: C, undef: 0n, reads: C };
    case 'jcc': case 'setcc': case 'cmovcc':
      return { ...NONE, reads: condReads(insn.opcode & 15) };
    case 'pushf': case 'lahf':
      return { ...NONE, reads: OSZAPC };
    default:
      return NONE;
  }
}
