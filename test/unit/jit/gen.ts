/**
 * Random instructions and machine states for the differential tests, drawn from the lifter's own
 * opcode tables: a random slot, random prefixes and REX, a random ModRM form and random
 * immediates, kept when the decoder accepts it.
 *
 * Memory operands always address the data pages: they use r15 as base (fixed at the middle of
 * the data pages) and r14 as index (a small multiple of 16), or are RIP-relative with the
 * displacement patched to land in the data pages; no generated instruction may name r14 or r15
 * otherwise, so their values hold across a sequence. The stack pointer, rsi and rdi point into
 * the data pages too (for push/pop and string instructions).
 */
import { GuestState, OFF, xmmOff } from '../../../engine/jit/guest-state';
import { decode, Insn, isFailure } from '../../../engine/jit/lift/decode';
import { decodeCovered } from '../../../engine/jit/lift/lift';
import { GrpSlot, ONE_BYTE, PfxSlot, Slot, TWO_BYTE } from '../../../engine/jit/lift/tables';
import { setRflags } from '../../../engine/jit/unicorn-sync';
import { CODE, DATA, DATA_SIZE } from './machine';


export const R15_VALUE = DATA + 0x1000;

const F64 = new Float64Array(1);
const F32 = new Float32Array(F64.buffer);
const U64 = new BigUint64Array(F64.buffer);
const PREFIX_BYTE: Record<keyof PfxSlot['pfx'], number> = { none: 0, p66: 0x66, f3: 0xf3, f2: 0xf2 };
const SPECIAL_DOUBLES = [0, -0, Infinity, -Infinity, NaN, 2 ** 63, -(2 ** 63), 2 ** 31, 0.5, 1.5, 2.5, -2.5, 1e-310];

/** Mnemonics that transfer control, trap, or depend on the environment: not in straight-line sequences. */
export const NOT_STRAIGHT = new Set(['jcc', 'jmp', 'call', 'ret', 'syscall', 'int3', 'ud2', 'cpuid', 'rdtsc', 'fnstcw', 'popf', 'ldmxcsr']);

export interface Generated {
  readonly bytes: Uint8Array;
  readonly insn: Insn;
}

export class Gen {
  private readonly oneByte = Object.keys(ONE_BYTE).map(Number);
  private readonly twoByte = Object.keys(TWO_BYTE).map(Number);

  constructor(readonly rand: () => number) {}

  int(n: number): number {
    return Math.floor(this.rand() * n);
  }

  chance(p: number): boolean {
    return this.rand() < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }

  /** A random 64-bit value, biased toward the edges arithmetic cares about. */
  u64(): bigint {
    const r = this.rand();
    if (r < 0.1) return 0n;
    if (r < 0.3) return BigInt(this.int(256));
    if (r < 0.4) return BigInt.asUintN(64, -BigInt(1 + this.int(256)));
    if (r < 0.55) {
      const bit = BigInt(this.int(64));
      return BigInt.asUintN(64, (1n << bit) + BigInt(this.int(3)) - 1n);
    }
    if (r < 0.65) return BigInt(this.int(2 ** 31)) | (this.chance(0.5) ? 0xffffffff00000000n : 0n);
    return (BigInt(this.int(2 ** 32)) << 32n) | BigInt(this.int(2 ** 32));
  }

  /** A 64-bit lane of an xmm register: raw bits, a plain double, or a special value. */
  f64Lane(): bigint {
    const r = this.rand();
    if (r < 0.3) return this.u64();
    if (r < 0.7) F64[0] = (this.rand() - 0.5) * 10 ** this.int(12);
    else if (r < 0.8) F64[0] = this.int(100) - 50;
    else if (r < 0.85) {
      // Two float32 values, for the single-precision instructions.
      F32[0] = (this.rand() - 0.5) * 1000;
      F32[1] = this.int(20);
    } else F64[0] = this.pick(SPECIAL_DOUBLES);
    return U64[0];
  }

  /** A random initial state (memory pointers placed as the module comment says). */
  state(opts: { smallRcx?: boolean } = {}): GuestState {
    const s = new GuestState();
    for (let r = 0; r < 16; r++) s.setGpr(r, this.u64());
    s.setGpr(4, BigInt(DATA + 0x1800 + 8 * this.int(16)));
    if (this.chance(0.5)) s.setGpr(5, BigInt(DATA + 0x1400 + 8 * this.int(16)));
    s.setGpr(6, BigInt(DATA + 0x400 + this.int(256)));
    s.setGpr(7, BigInt(DATA + 0xc00 + this.int(256)));
    if (opts.smallRcx) s.setGpr(1, BigInt(this.int(20)));
    s.setGpr(14, BigInt(16 * this.int(4)));
    s.setGpr(15, BigInt(R15_VALUE));
    let fl = 2n;
    for (const bit of [0n, 2n, 4n, 6n, 7n, 11n]) if (this.chance(0.5)) fl |= 1n << bit;
    if (this.chance(0.15)) fl |= 1n << 10n;
    setRflags(s, fl);
    for (let x = 0; x < 16; x++) {
      s.dv.setBigUint64(xmmOff(x), this.f64Lane(), true);
      s.dv.setBigUint64(xmmOff(x) + 8, this.f64Lane(), true);
    }
    s.u64[OFF.RIP >> 3] = BigInt(CODE);
    return s;
  }

  /** Random contents for the data pages: raw words, with doubles and small numbers mixed in. */
  data(): Uint8Array {
    const d = new Uint8Array(DATA_SIZE);
    const dv = new DataView(d.buffer);
    for (let i = 0; i < d.length; i += 8) {
      const r = this.rand();
      if (r < 0.15) dv.setBigUint64(i, this.f64Lane(), true);
      else if (r < 0.3) dv.setUint32(i, this.int(256), true);
      else {
        dv.setUint32(i, this.int(2 ** 32), true);
        dv.setUint32(i + 4, this.int(2 ** 32), true);
      }
    }
    return d;
  }

  /**
   * A random instruction at addr that the lifter covers and `accept` allows, with its memory
   * operands in the data pages.
   */
  insn(addr: number, accept: (i: Insn) => boolean): Generated {
    for (;;) {
      const g = this.tryInsn(addr);
      if (g && accept(g.insn)) return g;
    }
  }

  /**
   * One attempt. Encodings where QEMU (the oracle) departs from the SDM are not generated:
   * 66 together with F2/F3 (QEMU lets 66 select the SSE form; the SDM leaves it reserved),
   * F2/F3 on instructions they do not apply to (QEMU mis-handles some), REX.R on group opcodes
   * (QEMU takes C6/C7 /0 with REX.R for another group member and raises #UD), REX with
   * lahf/sahf (QEMU then uses spl instead of ah), and RIP-relative shld/shrd with an immediate.
   */
  private tryInsn(addr: number): Generated | undefined {
    const bytes: number[] = [];
    const twoByte = this.chance(0.35);
    const opcode = twoByte ? this.pick(this.twoByte) : this.pick(this.oneByte);
    let slot: Slot | undefined = (twoByte ? TWO_BYTE : ONE_BYTE)[opcode];
    const isString = !twoByte && opcode >= 0xa4 && opcode <= 0xaf && opcode !== 0xa8 && opcode !== 0xa9;
    // A choice by mandatory prefix: take one of the prefixes the slot defines.
    let prefix = 0;
    if (typeof slot === 'object' && 'pfx' in slot) {
      const keys = Object.keys(slot.pfx) as (keyof PfxSlot['pfx'])[];
      const key = this.pick(keys);
      prefix = PREFIX_BYTE[key];
      slot = slot.pfx[key];
    } else {
      const rp = this.rand();
      if (rp < 0.2) prefix = 0x66;
      else if (rp < 0.32 && isString) prefix = 0xf3;
      else if (rp < 0.42 && isString) prefix = 0xf2;
    }
    if (prefix) bytes.push(prefix);
    // Register-only forms must not get a memory ModRM; groups get a defined ModRM.reg.
    let regOnly = false;
    if (typeof slot === 'object' && ('mod3' in slot || 'mem' in slot)) {
      regOnly = slot.mem === undefined;
      if (slot.mod3 === undefined && slot.mem !== undefined) slot = slot.mem;
      else if (regOnly) slot = slot.mod3;
    }
    const group = typeof slot === 'object' && 'grp' in slot;
    let reg = this.int(8);
    if (group) {
      const defined = (slot as GrpSlot).grp.map((e, i) => (e === undefined ? -1 : i)).filter((i) => i >= 0);
      reg = this.pick(defined);
    }
    // Memory forms use r15 (REX.B) as SIB base and r14 (REX.X) as index, or RIP-relative.
    const memForm = this.rand();
    const modrmMem = !regOnly && memForm < 0.45;
    const ripRel = memForm < 0.08;
    const useIndex = this.chance(0.6);
    let rex = this.chance(0.6) ? 0x40 | this.int(16) : 0;
    if (modrmMem && !ripRel) rex = (rex || 0x40) | 1 | (useIndex ? 2 : 0);
    if (modrmMem && !ripRel && !useIndex) rex &= ~2;
    if (group) rex &= ~4;
    if (!twoByte && (opcode === 0x9e || opcode === 0x9f)) rex = 0;
    if (rex === 0x40 && modrmMem && !ripRel) rex = 0x41;
    if (rex) bytes.push(rex);
    if (twoByte) bytes.push(0x0f);
    bytes.push(opcode);
    if (!modrmMem) {
      bytes.push(0xc0 | (reg << 3) | this.int(8));
    } else if (ripRel) {
      bytes.push((reg << 3) | 5, 0, 0, 0, 0);
    } else {
      const mod = this.int(3);
      bytes.push((mod << 6) | (reg << 3) | 4);
      bytes.push((this.int(4) << 6) | ((useIndex ? 6 : 4) << 3) | 7);
      if (mod === 1) bytes.push(this.int(256));
      if (mod === 2) bytes.push(0, 0, 0, 0);
    }
    for (let i = 0; i < 8; i++) bytes.push(this.int(256));
    const buf = Uint8Array.from(bytes);
    let d = decodeCovered(buf, addr);
    if (isFailure(d)) return undefined;
    // No operand other than memory addressing may use r14/r15.
    for (const o of d.ops) {
      if (o.k === 'gpr' && o.reg >= 14) return undefined;
      if (o.k === 'mem' && ((o.m.base >= 0 && o.m.base !== 15) || (o.m.index >= 0 && o.m.index !== 14) || o.m.seg)) return undefined;
    }
    const mem = d.ops.find((o) => o.k === 'mem');
    // QEMU computes RIP-relative addresses of shld/shrd with an immediate one byte short.
    if (mem && mem.k === 'mem' && mem.m.rip && (d.mnem === 'shld' || d.mnem === 'shrd') && d.ops[2].k === 'imm') return undefined;
    if (mem && mem.k === 'mem' && d.dispOffset >= 0) {
      // 16-byte operands are always aligned: QEMU does not check legacy SSE alignment (the CPU
      // does, and so does the lifter), which hand-picked cases cover.
      const aligned = mem.size === 16 || this.chance(0.85);
      let disp: number;
      if (mem.m.rip) {
        let target = DATA + 0x200 + this.int(DATA_SIZE - 0x400);
        if (aligned) target -= target % 16;
        disp = target - (addr + d.len);
      } else if (d.dispSize === 1) {
        disp = (this.int(256) - 128) & (aligned ? ~15 : ~0);
      } else {
        disp = (this.int(0xe00) - 0x700) & (aligned ? ~15 : ~0);
      }
      const dv = new DataView(buf.buffer);
      if (d.dispSize === 1) dv.setInt8(d.dispOffset, disp);
      else dv.setInt32(d.dispOffset, disp, true);
      d = decode(buf, addr);
      if (isFailure(d)) return undefined;
    }
    return { bytes: buf.slice(0, d.len), insn: d };
  }
}
