/** Guest signal state and delivery: actions, the rt_sigframe the kernel builds on the guest stack, and sigreturn. */
import { X86 } from '../cpu/x86-const';
import type { Unicorn } from '../cpu/unicorn';
import type { GuestMemory } from '../memory/guest-memory';
import type { Thread } from './thread';

export const SIG = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9,
  SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGSTKFLT: 16, SIGCHLD: 17,
  SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22, SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25,
  SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28, SIGIO: 29, SIGPWR: 30, SIGSYS: 31,
} as const;

/** Signal name by number ("SIGSEGV"), or "SIG<n>" for real-time signals. */
export function signalName(n: number): string {
  const e = Object.entries(SIG).find(([, v]) => v === n);
  return e ? e[0] : n >= 32 ? `SIGRT${n - 32}` : `SIG${n}`;
}

export const SA_SIGINFO = 4;
export const SA_ONSTACK = 0x08000000;
export const SA_RESTORER = 0x04000000;
export const SA_NODEFER = 0x40000000;
export const SA_RESETHAND = 0x80000000;
export const SIG_DFL = 0;
export const SIG_IGN = 1;

/** struct k_sigaction as rt_sigaction(2) passes it. */
export interface SigAction {
  handler: number;
  flags: number;
  restorer: number;
  mask: bigint;
}

/** Signals whose default action is to ignore them. */
const DEFAULT_IGNORE = new Set<number>([SIG.SIGCHLD, SIG.SIGCONT, SIG.SIGURG, SIG.SIGWINCH]);
/** Signals whose default action dumps core (Valgrind says so in its report). */
export const CORE_SIGNALS = new Set<number>([SIG.SIGQUIT, SIG.SIGILL, SIG.SIGTRAP, SIG.SIGABRT, SIG.SIGBUS, SIG.SIGFPE,
  SIG.SIGSEGV, SIG.SIGXCPU, SIG.SIGXFSZ, SIG.SIGSYS]);

/** True when the default action of sig is to do nothing. */
export function ignoredByDefault(sig: number): boolean {
  return DEFAULT_IGNORE.has(sig);
}

/** Details of a synchronous fault, for siginfo and for the crash report. */
export interface FaultInfo {
  sig: number;
  /** si_code: SEGV_MAPERR 1, SEGV_ACCERR 2, ILL_ILLOPN 2, FPE_INTDIV 1, TRAP_BRKPT 1, SI_USER 0, SI_TKILL -6. */
  code: number;
  addr: number;
  pid?: number;
}

// General registers in struct sigcontext order (r8 … r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip).
const SIGCONTEXT_REGS = [X86.R8, X86.R9, X86.R10, X86.R11, X86.R12, X86.R13, X86.R14, X86.R15,
  X86.RDI, X86.RSI, X86.RBP, X86.RBX, X86.RDX, X86.RAX, X86.RCX, X86.RSP, X86.RIP];
const UC_OFF = 8;            // after pretcode
const MCONTEXT_OFF = UC_OFF + 40; // uc_flags, uc_link, uc_stack(24)
const SIGMASK_OFF = MCONTEXT_OFF + 256;
const SIGINFO_OFF = SIGMASK_OFF + 8 + 128; // leave room for glibc's larger sigset_t
const FPSTATE_OFF = SIGINFO_OFF + 128;
const FRAME_SIZE = FPSTATE_OFF + 512;

/**
 * Builds a Linux x86-64 rt_sigframe for sig on the thread's stack (or its alternate stack) and
 * points the CPU at the handler. The FPU/SSE state is saved in the frame's fpstate area with the
 * CPU's own FXSAVE layout, read back by rt_sigreturn.
 */
export function deliverSignal(uc: Unicorn, mem: GuestMemory, t: Thread, act: SigAction, info: FaultInfo,
  saveFp: () => Uint8Array): void {
  const rsp = uc.reg_read_num(X86.RSP);
  const onAlt = (act.flags & SA_ONSTACK) !== 0 && t.altStack[1] === 0 && !(rsp >= t.altStack[0] && rsp < t.altStack[0] + t.altStack[2]);
  let sp = onAlt ? t.altStack[0] + t.altStack[2] : rsp - 128; // skip the red zone
  sp -= FRAME_SIZE;
  sp -= sp % 64;
  sp -= 8; // as after a call: (sp + 8) % 16 == 0 at handler entry
  const frame = new Uint8Array(FRAME_SIZE);
  const dv = new DataView(frame.buffer);
  dv.setBigUint64(0, BigInt(act.restorer), true);
  dv.setBigUint64(UC_OFF + 16, BigInt(t.altStack[0]), true);
  dv.setInt32(UC_OFF + 24, t.altStack[1], true);
  dv.setBigUint64(UC_OFF + 32, BigInt(t.altStack[2]), true);
  SIGCONTEXT_REGS.forEach((r, i) => dv.setBigUint64(MCONTEXT_OFF + i * 8, uc.reg_read(r), true));
  dv.setBigUint64(MCONTEXT_OFF + 17 * 8, uc.reg_read(X86.EFLAGS), true);
  dv.setBigUint64(MCONTEXT_OFF + 18 * 8, 0x33n, true); // cs
  dv.setBigUint64(MCONTEXT_OFF + 20 * 8, BigInt(info.sig === SIG.SIGSEGV ? 0xe : 0), true); // trapno
  dv.setBigUint64(MCONTEXT_OFF + 22 * 8, BigInt(info.addr), true); // cr2
  dv.setBigUint64(MCONTEXT_OFF + 23 * 8, BigInt(sp + FPSTATE_OFF), true); // fpstate
  dv.setBigUint64(SIGMASK_OFF, t.sigmask, true);
  dv.setInt32(SIGINFO_OFF, info.sig, true);
  dv.setInt32(SIGINFO_OFF + 8, info.code, true);
  if (info.code > 0) dv.setBigUint64(SIGINFO_OFF + 16, BigInt(info.addr), true);
  else dv.setInt32(SIGINFO_OFF + 16, info.pid ?? 0, true);
  frame.set(saveFp().subarray(0, 512), FPSTATE_OFF);
  mem.write(sp, frame);
  t.sigmask |= act.mask;
  if (!(act.flags & SA_NODEFER)) t.sigmask |= 1n << BigInt(info.sig - 1);
  uc.reg_write(X86.RSP, sp);
  uc.reg_write(X86.RDI, info.sig);
  uc.reg_write(X86.RSI, sp + SIGINFO_OFF);
  uc.reg_write(X86.RDX, sp + UC_OFF);
  uc.reg_write(X86.RAX, 0);
  uc.reg_write(X86.RIP, act.handler);
}

/** rt_sigreturn: restores the registers, mask and FPU state from the frame the handler returned through. */
export function sigreturn(uc: Unicorn, mem: GuestMemory, t: Thread, restoreFp: (b: Uint8Array) => void): void {
  const sp = uc.reg_read_num(X86.RSP) - 8; // the restorer's ret popped pretcode
  const frame = mem.read(sp, FRAME_SIZE);
  const dv = new DataView(frame.buffer);
  SIGCONTEXT_REGS.forEach((r, i) => uc.reg_write(r, dv.getBigUint64(MCONTEXT_OFF + i * 8, true)));
  uc.reg_write(X86.EFLAGS, dv.getBigUint64(MCONTEXT_OFF + 17 * 8, true));
  t.sigmask = dv.getBigUint64(SIGMASK_OFF, true);
  restoreFp(frame.subarray(FPSTATE_OFF, FPSTATE_OFF + 512));
}
