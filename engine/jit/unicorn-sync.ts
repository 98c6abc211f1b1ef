/**
 * Copies the CPU state between Unicorn and the IR guest state, both ways: what the engine does
 * when it hands an instruction the lifter does not cover to Unicorn and takes the result back,
 * and what the differential tests do to start both from one state.
 *
 * RFLAGS goes into a COPY thunk (the flags are exact there), DF into DFLAG, the other bits into
 * RFLAGS_OTHER; coming back, the thunk is evaluated.
 */
import type { Unicorn } from '../cpu/unicorn';
import { GPR_BY_ENCODING, X86 } from '../cpu/x86-const';
import { calcRflags, CC_OP_COPY, F, OSZAPC } from './flags';
import { GuestState, OFF, xmmOff } from './guest-state';

/** Unicorn → guest state. */
export function stateFromUnicorn(uc: Unicorn, s: GuestState): void {
  for (let r = 0; r < 16; r++) s.u64[r] = uc.reg_read(GPR_BY_ENCODING[r]);
  s.u64[OFF.RIP >> 3] = uc.reg_read(X86.RIP);
  setRflags(s, uc.reg_read(X86.EFLAGS));
  s.u64[OFF.FS_BASE >> 3] = uc.reg_read(X86.FS_BASE);
  s.u64[OFF.GS_BASE >> 3] = uc.reg_read(X86.GS_BASE);
  for (let r = 0; r < 16; r++) s.bytes.set(uc.reg_read_bytes(X86.XMM0 + r, 16), xmmOff(r));
  s.dv.setUint32(OFF.MXCSR, Number(uc.reg_read(X86.MXCSR) & 0xffffffffn), true);
}

/** Guest state → Unicorn. */
export function stateToUnicorn(s: GuestState, uc: Unicorn): void {
  for (let r = 0; r < 16; r++) uc.reg_write(GPR_BY_ENCODING[r], s.u64[r]);
  uc.reg_write(X86.RIP, s.u64[OFF.RIP >> 3]);
  uc.reg_write(X86.EFLAGS, rflagsOf(s));
  uc.reg_write(X86.FS_BASE, s.u64[OFF.FS_BASE >> 3]);
  uc.reg_write(X86.GS_BASE, s.u64[OFF.GS_BASE >> 3]);
  for (let r = 0; r < 16; r++) uc.reg_write_bytes(X86.XMM0 + r, s.bytes.subarray(xmmOff(r), xmmOff(r) + 16));
  uc.reg_write(X86.MXCSR, s.dv.getUint32(OFF.MXCSR, true));
}

/** The full RFLAGS of a guest state (the thunk evaluated). */
export function rflagsOf(s: GuestState): bigint {
  const u = s.u64;
  const f = calcRflags(u[OFF.CC_OP >> 3], u[OFF.CC_DEP1 >> 3], u[OFF.CC_DEP2 >> 3], u[OFF.CC_NDEP >> 3]);
  const df = u[OFF.DFLAG >> 3] === 1n ? 0n : F.D;
  return f | df | u[OFF.RFLAGS_OTHER >> 3];
}

/** Sets RFLAGS: arithmetic flags to a COPY thunk, DF to DFLAG, the rest verbatim. */
export function setRflags(s: GuestState, v: bigint): void {
  const u = s.u64;
  u[OFF.CC_OP >> 3] = BigInt(CC_OP_COPY);
  u[OFF.CC_DEP1 >> 3] = v & OSZAPC;
  u[OFF.CC_DEP2 >> 3] = 0n;
  u[OFF.CC_NDEP >> 3] = 0n;
  u[OFF.DFLAG >> 3] = v & F.D ? (1n << 64n) - 1n : 1n;
  u[OFF.RFLAGS_OTHER >> 3] = v & ~(OSZAPC | F.D) & ((1n << 64n) - 1n);
}
