/**
 * A small DWARF expression evaluator over JS Numbers, for CFI rules (and later, variable
 * locations). libdw parses the expression bytes into `Dwarf_Op`s; this file only runs them
 * against guest registers and memory, which live in JS.
 *
 * Values are 64-bit words held as Numbers: exact for |v| < 2^53, which covers user-space
 * addresses (< 2^47) and the small negative offsets CFI uses. Bitwise operations go through
 * BigInt so masks such as 0xfffffffffffffff0 (= -16 here) stay exact.
 */
import { nativeView, SIZEOF_OP } from './libdw';

/** One decoded operation: libdw's Dwarf_Op with its operands as signed Numbers. */
export interface DwarfOp {
  readonly atom: number;
  readonly number: number;
  readonly number2: number;
  /** Byte offset of the operation in its expression (branch targets are byte offsets). */
  readonly offset: number;
}

/** What an expression has access to. */
export interface ExprEnv {
  /** Value of DWARF register `regno`, NaN when unknown. */
  reg(regno: number): number;
  /** 8 bytes of guest memory, undefined when unreadable. */
  readU64(addr: number): bigint | undefined;
  /** The canonical frame address for DW_OP_call_frame_cfa (NaN when there is none). */
  readonly cfa: number;
}

/** Where an expression says the object is. */
export type ExprResult =
  | { readonly kind: 'memory'; readonly address: number }
  | { readonly kind: 'register'; readonly regno: number }
  | { readonly kind: 'value'; readonly value: number };

export const DW_OP_addr = 0x03;
export const DW_OP_deref = 0x06;
export const DW_OP_plus_uconst = 0x23;
export const DW_OP_lit0 = 0x30;
export const DW_OP_reg0 = 0x50;
export const DW_OP_breg0 = 0x70;
export const DW_OP_regx = 0x90;
export const DW_OP_fbreg = 0x91;
export const DW_OP_bregx = 0x92;
export const DW_OP_call_frame_cfa = 0x9c;
export const DW_OP_stack_value = 0x9f;

/** A 64-bit word read from memory as the signed Number this evaluator works with. */
export function wordToNumber(v: bigint): number {
  // Through the 32-bit halves: Number(bigint) is a slow runtime call in V8, and unwinds convert
  // every register of every frame.
  WORD[0] = v;
  const hi = WORD32[1];
  return hi < 0x200000 ? hi * 4294967296 + WORD32[0] : Number(BigInt.asIntN(64, v));
}
const WORD = new BigUint64Array(1);
const WORD32 = new Uint32Array(WORD.buffer);

const u64 = (x: number): bigint => BigInt.asUintN(64, BigInt(x));
const fromU64 = (x: bigint): number => Number(BigInt.asIntN(64, x));

/** Decodes `n` libdw Dwarf_Op structures (32 bytes each) at native address `p`. */
export function decodeOps(p: bigint, n: number): DwarfOp[] {
  if (n === 0) return [];
  const v = nativeView(p, n * SIZEOF_OP);
  const ops: DwarfOp[] = [];
  for (let i = 0; i < n; i++) {
    const b = i * SIZEOF_OP;
    ops.push({
      atom: v.getUint8(b),
      number: Number(v.getBigInt64(b + 8, true)),
      number2: Number(v.getBigInt64(b + 16, true)),
      offset: Number(v.getBigUint64(b + 24, true)),
    });
  }
  return ops;
}

/**
 * Runs `ops` with `initial` pre-pushed. Returns undefined when the result cannot be known
 * (unknown register, unreadable memory, unsupported operation, malformed expression).
 */
export function evaluate(ops: readonly DwarfOp[], env: ExprEnv, initial: readonly number[] = []): ExprResult | undefined {
  const st: number[] = initial.slice();
  const pop = (): number => {
    if (st.length === 0) throw new ExprError();
    return st.pop() as number;
  };
  const deref = (addr: number, size: number): number => {
    const w = env.readU64(addr);
    if (w === undefined) throw new ExprError();
    return size >= 8 ? wordToNumber(w) : Number(BigInt.asUintN(size * 8, w));
  };
  try {
    for (let pc = 0; pc < ops.length; pc++) {
      const op = ops[pc];
      const a = op.atom;
      if (a >= DW_OP_lit0 && a < DW_OP_lit0 + 32) { st.push(a - DW_OP_lit0); continue; }
      if (a >= DW_OP_reg0 && a < DW_OP_reg0 + 32) return finishRegister(a - DW_OP_reg0, pc, ops);
      if (a >= DW_OP_breg0 && a < DW_OP_breg0 + 32) { st.push(known(env.reg(a - DW_OP_breg0)) + op.number); continue; }
      switch (a) {
        case DW_OP_addr: case 0x08: case 0x09: case 0x0a: case 0x0b: case 0x0c: case 0x0d:
        case 0x0e: case 0x0f: case 0x10: case 0x11: // DW_OP_const*
          st.push(op.number); break;
        case DW_OP_regx: return finishRegister(op.number, pc, ops);
        case DW_OP_bregx: st.push(known(env.reg(op.number)) + op.number2); break;
        case DW_OP_call_frame_cfa: st.push(known(env.cfa)); break;
        case DW_OP_deref: st.push(deref(pop(), 8)); break;
        case 0x94: st.push(deref(pop(), op.number)); break; // DW_OP_deref_size
        case 0x12: { const x = pop(); st.push(x, x); break; } // dup
        case 0x13: pop(); break; // drop
        case 0x14: st.push(pick(st, 1)); break; // over
        case 0x15: st.push(pick(st, op.number)); break; // pick
        case 0x16: { const x = pop(); const y = pop(); st.push(x, y); break; } // swap
        case 0x17: { const x = pop(); const y = pop(); const z = pop(); st.push(x, z, y); break; } // rot
        case 0x19: st.push(Math.abs(pop())); break; // abs
        case 0x1a: { const x = pop(); const y = pop(); st.push(fromU64(u64(y) & u64(x))); break; } // and
        case 0x1b: { const x = pop(); const y = pop(); if (x === 0) throw new ExprError(); st.push(Math.trunc(y / x)); break; } // div
        case 0x1c: { const x = pop(); const y = pop(); st.push(y - x); break; } // minus
        case 0x1d: { const x = pop(); const y = pop(); if (x === 0) throw new ExprError(); st.push(fromU64(u64(y) % u64(x))); break; } // mod
        case 0x1e: { const x = pop(); const y = pop(); st.push(fromU64(u64(y) * u64(x))); break; } // mul
        case 0x1f: st.push(-pop()); break; // neg
        case 0x20: st.push(fromU64(~u64(pop()))); break; // not
        case 0x21: { const x = pop(); const y = pop(); st.push(fromU64(u64(y) | u64(x))); break; } // or
        case 0x22: { const x = pop(); const y = pop(); st.push(y + x); break; } // plus
        case DW_OP_plus_uconst: st.push(pop() + op.number); break;
        case 0x24: { const x = pop(); const y = pop(); st.push(fromU64(u64(y) << BigInt(x & 63))); break; } // shl
        case 0x25: { const x = pop(); const y = pop(); st.push(fromU64(u64(y) >> BigInt(x & 63))); break; } // shr
        case 0x26: { const x = pop(); const y = pop(); st.push(fromU64(BigInt.asIntN(64, u64(y)) >> BigInt(x & 63))); break; } // shra
        case 0x27: { const x = pop(); const y = pop(); st.push(fromU64(u64(y) ^ u64(x))); break; } // xor
        case 0x29: case 0x2a: case 0x2b: case 0x2c: case 0x2d: case 0x2e: { // eq ge gt le lt ne (signed)
          const x = pop(); const y = pop();
          st.push(compare(a, y, x) ? 1 : 0);
          break;
        }
        case 0x2f: pc = branch(ops, op) - 1; break; // skip
        case 0x28: if (pop() !== 0) pc = branch(ops, op) - 1; break; // bra
        case 0x96: break; // nop
        case DW_OP_stack_value: return { kind: 'value', value: pop() };
        default: return undefined; // pieces, TLS, typed stack, entry values: not needed for CFI
      }
    }
  } catch (e) {
    if (e instanceof ExprError) return undefined;
    throw e;
  }
  if (st.length === 0) return undefined;
  const top = st[st.length - 1];
  return Number.isFinite(top) ? { kind: 'memory', address: top } : undefined;
}

class ExprError extends Error {}

function known(v: number): number {
  if (Number.isNaN(v)) throw new ExprError();
  return v;
}

function pick(st: number[], depth: number): number {
  if (depth < 0 || depth >= st.length) throw new ExprError();
  return st[st.length - 1 - depth];
}

function compare(atom: number, y: number, x: number): boolean {
  switch (atom) {
    case 0x29: return y === x;
    case 0x2a: return y >= x;
    case 0x2b: return y > x;
    case 0x2c: return y <= x;
    case 0x2d: return y < x;
    default: return y !== x;
  }
}

/**
 * Index of the op a skip/bra jumps to. The 2-byte operand counts bytes from the end of the
 * branch (1 opcode byte + 2), and is signed whichever way libdw stored it.
 */
function branch(ops: readonly DwarfOp[], op: DwarfOp): number {
  const target = op.offset + 3 + ((op.number << 16) >> 16);
  const i = ops.findIndex((o) => o.offset === target);
  if (i >= 0) return i;
  if (target > ops[ops.length - 1].offset) return ops.length; // a jump past the last op ends it
  throw new ExprError();
}

/** A register location must be the whole expression (or followed by a piece we ignore). */
function finishRegister(regno: number, pc: number, ops: readonly DwarfOp[]): ExprResult | undefined {
  return pc === ops.length - 1 ? { kind: 'register', regno } : undefined;
}
