/**
 * Operand specifications in the notation of the Intel SDM's opcode map (Volume 2, Appendix A):
 * an addressing method letter and a size code, e.g. `Ev` (ModRM r/m, operand size), `Gb` (ModRM
 * reg, byte), `Iz` (immediate of 16 or 32 bits), `Vdq`/`Wsd` (xmm reg / xmm-or-memory), plus
 * fixed registers (`AL`, `CL`, `rAX`) and the constant `1` of the shift-by-one forms.
 *
 * An opcode table entry is a string "mnemonic Spec,Spec flags…"; parseEntry turns it into an
 * EntrySpec once, at module load.
 */

/** How an operand is found. */
export type Method =
  | 'E' // ModRM r/m: general register or memory
  | 'G' // ModRM reg: general register
  | 'M' // ModRM r/m: memory only
  | 'R' // ModRM r/m: general register only (mod = 3)
  | 'I' // immediate
  | 'J' // relative branch target
  | 'Z' // general register in the low 3 bits of the opcode (+ REX.B)
  | 'V' // ModRM reg: xmm register
  | 'W' // ModRM r/m: xmm register or memory
  | 'U' // ModRM r/m: xmm register only (mod = 3)
  | 'O' // absolute address (moffs) of operand size
  | 'fixed' // a fixed general register (AL, CL, rAX, …)
  | 'one'; // the constant 1 (shift/rotate by one)

/** Size codes (SDM A.2.2). v: operand size; z: 16/32; y: 32/64 by REX.W; x: 16 bytes. */
export type SizeCode = 'b' | 'w' | 'd' | 'q' | 'v' | 'z' | 'y' | 'dq' | 'ss' | 'sd' | 'ps' | 'pd' | 'x' | '';

export interface OperandSpec {
  readonly method: Method;
  readonly size: SizeCode;
  /** For 'fixed': the register number (encoding order). */
  readonly reg?: number;
}

/** Instruction attributes after the operands. */
export interface EntryFlags {
  /** Operand size defaults to 64 bits (push, pop, call/jmp indirect, leave…); 66 selects 16. */
  readonly d64: boolean;
  /** Operand size is always 64 bits (near branches). */
  readonly f64: boolean;
  /** The instruction ends a block (control transfer or trap). */
  readonly ends: boolean;
}

export interface EntrySpec {
  readonly mnem: string;
  readonly ops: readonly OperandSpec[];
  readonly flags: EntryFlags;
  /** Whether a ModRM byte follows the opcode. */
  readonly modrm: boolean;
}

const FIXED: Record<string, OperandSpec> = {
  AL: { method: 'fixed', size: 'b', reg: 0 },
  CL: { method: 'fixed', size: 'b', reg: 1 },
  AX: { method: 'fixed', size: 'w', reg: 0 },
  DX: { method: 'fixed', size: 'w', reg: 2 },
  eAX: { method: 'fixed', size: 'd', reg: 0 },
  rAX: { method: 'fixed', size: 'v', reg: 0 },
  '1': { method: 'one', size: 'b' },
};

const METHODS = new Set<string>(['E', 'G', 'M', 'R', 'I', 'J', 'Z', 'V', 'W', 'U', 'O']);
const SIZES = new Set<string>(['b', 'w', 'd', 'q', 'v', 'z', 'y', 'dq', 'ss', 'sd', 'ps', 'pd', 'x', '']);
const MODRM_METHODS = new Set<Method>(['E', 'G', 'M', 'R', 'V', 'W', 'U']);

/** Parses one operand spec ("Ev", "Wsd", "AL", "1"). */
export function parseOperand(s: string): OperandSpec {
  const fixed = FIXED[s];
  if (fixed) return fixed;
  const method = s[0];
  const size = s.slice(1);
  if (!METHODS.has(method) || !SIZES.has(size)) throw new Error(`bad operand spec ${s}`);
  return { method: method as Method, size: size as SizeCode };
}

/** Parses a table entry "mnem Op1,Op2 flag flag". Group entries always have a ModRM byte. */
export function parseEntry(text: string, inGroup: boolean): EntrySpec {
  const words = text.trim().split(/\s+/);
  const mnem = words[0];
  let ops: OperandSpec[] = [];
  let rest = words.slice(1);
  if (rest.length && !['d64', 'f64', 'end', 'modrm'].includes(rest[0])) {
    ops = rest[0].split(',').map(parseOperand);
    rest = rest.slice(1);
  }
  const flags: EntryFlags = { d64: rest.includes('d64'), f64: rest.includes('f64'), ends: rest.includes('end') };
  for (const f of rest) if (!['d64', 'f64', 'end', 'modrm'].includes(f)) throw new Error(`bad entry flag ${f} in "${text}"`);
  const modrm = inGroup || rest.includes('modrm') || ops.some((o) => MODRM_METHODS.has(o.method));
  return { mnem, ops, flags, modrm };
}

/** The byte size a size code stands for, given the effective operand size and REX.W. */
export function sizeOf(code: SizeCode, opsize: number, rexW: boolean): number {
  switch (code) {
    case 'b': return 1;
    case 'w': return 2;
    case 'd': case 'ss': return 4;
    case 'q': case 'sd': return 8;
    case 'v': return opsize;
    case 'z': return opsize === 2 ? 2 : 4;
    case 'y': return rexW ? 8 : 4;
    case 'dq': case 'ps': case 'pd': case 'x': return 16;
    case '': return 0;
  }
}
