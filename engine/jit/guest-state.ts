/**
 * The x86-64 guest state as the IR sees it: byte offsets into one ArrayBuffer. General registers
 * sit in hardware encoding order, 8 bytes each, so that al/ax/eax/rax are accesses of 1/2/4/8
 * bytes at the same offset and ah is one byte at offset+1 (little-endian, as on the host).
 *
 * The arithmetic flags live in a lazy thunk (CC_OP, CC_DEP1, CC_DEP2, CC_NDEP; see flags.ts), as
 * in VEX; the direction flag as +1/-1 (DFLAG) so that string instructions step by DFLAG×size;
 * the remaining bits of RFLAGS (bit 1, IF, AC, ID…) are kept verbatim in RFLAGS_OTHER.
 *
 * The buffer is three times GUEST_STATE_SIZE, as VEX lays out its shadow areas: the guest state,
 * then the shadow state a tool may use (memcheck's V bits of offset o at o + SHADOW_OFFSET), then
 * a second shadow area (memcheck's origin tags with --track-origins=yes).
 *
 * Origin area: one otag per register, not per byte, as memcheck keeps it (precision per byte
 * would cost a Max per access for values that are rarely undefined). A slot is 8 bytes of guest
 * state (a general register, a flag-thunk word, RIP…) or a whole xmm register (16 bytes); its
 * otag (a 32-bit number) is held as a 64-bit value at the slot's offset + ORIGIN_OFFSET, which
 * generated code reads and writes as one BigUint64Array element (xmm slots leave their upper 8
 * bytes unused). The area mirrors the state's offsets, so the IR printer names them alike.
 */
import { toNum } from './bigint-bits';

/** Guest register numbers in hardware encoding order. */
export const GPR_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const;

export const OFF = {
  /** rax…r15 at 8 × encoding. */
  GPR: 0,
  RIP: 128,
  CC_OP: 136,
  CC_DEP1: 144,
  CC_DEP2: 152,
  CC_NDEP: 160,
  /** +1 or -1 (64-bit), the direction flag as string instructions use it. */
  DFLAG: 168,
  /** RFLAGS bits other than O S Z A P C and D (bit 1, TF, IF, AC, ID, …). */
  RFLAGS_OTHER: 176,
  FS_BASE: 184,
  GS_BASE: 192,
  /** xmm0…xmm15, 16 bytes each, 16-aligned. */
  XMM: 208,
  MXCSR: 464,
} as const;

/** Bytes of guest state (the shadow copy follows). */
export const GUEST_STATE_SIZE = 512;
/** Where a tool's shadow of offset o lives: o + SHADOW_OFFSET. */
export const SHADOW_OFFSET = GUEST_STATE_SIZE;
/** Start of the origin-tag area (the second shadow); see originSlots. */
export const ORIGIN_OFFSET = 2 * GUEST_STATE_SIZE;
/** Bytes of the whole buffer: state, shadow, origin tags. */
export const GUEST_STATE_BUFFER_SIZE = 3 * GUEST_STATE_SIZE;

/** One origin-tag slot an access touches: where its otag lives, and whether the access covers it all. */
export interface OriginSlot {
  readonly off: number;
  readonly full: boolean;
}

/** The origin slots [off, off+len) of the guest state touches (usually one). */
export function originSlots(off: number, len: number): OriginSlot[] {
  const out: OriginSlot[] = [];
  for (let o = off; o < off + len;) {
    const inXmm = o >= OFF.XMM && o < OFF.XMM + 256;
    const base = inXmm ? o - ((o - OFF.XMM) & 15) : o & ~7;
    const end = base + (inXmm ? 16 : 8);
    out.push({ off: base + ORIGIN_OFFSET, full: base >= off && end <= off + len });
    o = end;
  }
  return out;
}

/** Offset of a general register by encoding (0 = rax … 15 = r15). */
export const gprOff = (r: number): number => OFF.GPR + 8 * r;
/** Offset of an xmm register. */
export const xmmOff = (r: number): number => OFF.XMM + 16 * r;

export const RSP = 4;
export const RBP = 5;
export const RAX = 0;
export const RCX = 1;
export const RDX = 2;
export const RBX = 3;
export const RSI = 6;
export const RDI = 7;

/** The name of a guest state offset, for printing IR ("rax", "cc_op", "xmm3+8"…). */
export function offName(off: number): string {
  const shadow = off >= ORIGIN_OFFSET ? 'origin.' : off >= SHADOW_OFFSET ? 'shadow.' : '';
  const o = off % GUEST_STATE_SIZE;
  let name: string;
  if (o < OFF.RIP) name = GPR_NAMES[o >> 3] + (o % 8 ? `+${o % 8}` : '');
  else if (o >= OFF.XMM && o < OFF.XMM + 256) name = `xmm${(o - OFF.XMM) >> 4}` + ((o - OFF.XMM) % 16 ? `+${(o - OFF.XMM) % 16}` : '');
  else {
    const named = Object.entries(OFF).find(([, v]) => v === o);
    name = named ? named[0].toLowerCase() : `state+${o}`;
  }
  return shadow + name;
}

/** The guest state buffer with typed views for the common accesses. */
export class GuestState {
  readonly buf: ArrayBuffer;
  readonly dv: DataView;
  /** 8-byte slots: u64[off >> 3] for 8-aligned offsets. */
  readonly u64: BigUint64Array;
  readonly bytes: Uint8Array;

  constructor() {
    this.buf = new ArrayBuffer(GUEST_STATE_BUFFER_SIZE);
    this.dv = new DataView(this.buf);
    this.u64 = new BigUint64Array(this.buf);
    this.bytes = new Uint8Array(this.buf);
    this.u64[OFF.DFLAG >> 3] = 1n;
    this.u64[OFF.RFLAGS_OTHER >> 3] = 2n;
    this.dv.setUint32(OFF.MXCSR, 0x1f80, true);
  }

  gpr(r: number): bigint {
    return this.u64[r];
  }

  setGpr(r: number, v: bigint): void {
    this.u64[r] = BigInt.asUintN(64, v);
  }

  get rip(): number {
    return toNum(this.u64[OFF.RIP >> 3]);
  }

  set rip(v: number) {
    this.u64[OFF.RIP >> 3] = BigInt(v);
  }

  /** The 16 bytes of an xmm register (a view). */
  xmm(r: number): Uint8Array {
    return this.bytes.subarray(xmmOff(r), xmmOff(r) + 16);
  }

  /** A copy of this state (guest state and both shadow areas). */
  clone(): GuestState {
    const s = new GuestState();
    s.bytes.set(this.bytes);
    return s;
  }
}
