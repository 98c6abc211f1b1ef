/**
 * Runs guest threads on the translator (engine/jit) instead of Unicorn: blocks are lifted,
 * instrumented by the tool, compiled to JS and chained; the engine gets control back at system
 * calls, engine traps, instructions the lifter does not cover (single-stepped on Unicorn) and
 * CPU traps.
 *
 * Unicorn's registers stay the process's canonical CPU state between slices, so that the kernel,
 * signal delivery, traps, reports and thread switching keep working on one representation: the
 * state is copied out to Unicorn before the engine acts and back in afterwards. Each thread has
 * its own GuestState, whose shadow half (the tool's V bits) lives across slices. A register the
 * engine changed while it had control (a syscall result, a signal frame, a single-stepped
 * instruction) is taken back as fully defined; registers it did not change keep their shadow.
 */
import { Unicorn } from '../cpu/unicorn';
import { GPR_BY_ENCODING, X86 } from '../cpu/x86-const';
import { cpuid } from '../cpu/cpuid';
import { Dispatcher } from '../jit/dispatch';
import type { FusedAccess, FusedNames } from '../jit/fused-access';
import { GuestState, OFF, ORIGIN_OFFSET, RAX, RSP, SHADOW_OFFSET, gprOff, xmmOff } from '../jit/guest-state';
import type { DirtyFn, InterpEnv } from '../jit/interp';
import type { IRSB } from '../jit/ir';
import { GuestMemoryAccess, GuestMemoryFault, ViewMemory } from '../jit/memory';
import { rflagsOf, setRflags } from '../jit/unicorn-sync';
import type { GuestMemory } from '../memory/guest-memory';
import type { Thread } from './thread';

/** What a tool adds to translated code, and what it hears of register changes the engine makes. */
export interface JitTool {
  /** Instruments each optimised block (memcheck adds its shadow operations and checks). */
  readonly instrument?: (sb: IRSB) => IRSB;
  /** A cheaper instrumentation tried first, leaving for the full one by 'SlowPath' exits (Dispatcher's instrumentFast). */
  readonly instrumentFast?: (sb: IRSB) => IRSB | undefined;
  /** The dirty helpers the instrumented code calls. */
  readonly dirty?: Readonly<Record<string, DirtyFn>>;
  /** Which of them shadow loads and stores, and the fused pair over the translator's memory (fused-access.ts). */
  readonly fuse?: FusedNames;
  fused?(mem: GuestMemoryAccess): FusedAccess;
  /** A thread is about to run translated code for the first time, with this stack pointer. */
  threadStarted?(t: Thread, sp: number): void;
  /** The engine moved the stack pointer (a signal frame pushed, a sigreturn, an exit-time call). */
  externalSpChange?(oldSp: number, newSp: number): void;
  /** A system call is about to be serviced; the state is in Unicorn and `s`. */
  beforeSyscall?(s: GuestState): void;
}

/**
 * A trap that can run from any register source (a replaced function): reads the caller's
 * registers through `reg` (by Unicorn register id) and returns the new rax.
 */
export type FastTrap = (reg: (ucReg: number) => bigint) => bigint;

/** The engine services the translator needs (implemented by GuestProcess). */
export interface JitHost {
  readonly uc: Unicorn;
  readonly mem: GuestMemory;
  /** Engine traps planted as `syscall` instructions (replaced functions, client requests), by address. */
  readonly traps: ReadonlyMap<number, () => void>;
  /** The traps among them that the translator may run without copying its state to Unicorn. */
  readonly fastTraps: ReadonlyMap<number, FastTrap>;
  /** Services the syscall instruction at rip (engine trap or kernel); true when the slice must end. */
  serviceSyscall(rip: number): boolean;
  /** Executes the one instruction at Unicorn's RIP; true when it faulted or ended the process. */
  stepOnUnicorn(): boolean;
  /** Records a fault for the run loop to deliver. */
  setFault(f: { sig: number; code: number; addr: number }): void;
  /** True when the slice should end (time up, a stop requested, the process ended). */
  sliceOver(): boolean;
}

/** Counters for --stats=yes. */
export interface JitStats {
  /** Guest instructions run by translated code (a block left by a side exit counts those before it). */
  translatedInsns: number;
  /** Instructions the lifter does not cover, single-stepped on Unicorn. */
  steppedInsns: number;
  translations: number;
  /** Translations with the tool's fast instrumentation, and how often they left for the full one. */
  fastTranslations: number;
  slowPaths: number;
  /** Translations compiled to JS (the others ran too few times and stayed interpreted). */
  compiled: number;
  syscalls: number;
}

// Registers copied between Unicorn and the guest state, by slot of the `out` snapshot.
const N_GPR = 16;
const S_RIP = 16;
const S_FLAGS = 17;
const S_FS = 18;
const S_GS = 19;
const S_XMM = 20;
const S_MXCSR = S_XMM + 32;
const N_SLOTS = S_MXCSR + 1;
/** RFLAGS in `out` while Unicorn computes it lazily: no real RFLAGS has bit 63 set, so any read-back differs. */
const FLAGS_UNKNOWN = 1n << 63n;
/** Unicorn register → `out` slot, for the registers the guest state mirrors. */
const SLOT_OF_REG = new Map<number, number>([
  ...GPR_BY_ENCODING.map((reg, r): [number, number] => [reg, r]),
  [X86.RIP, S_RIP], [X86.EFLAGS, S_FLAGS], [X86.FS_BASE, S_FS], [X86.GS_BASE, S_GS],
  ...Array.from({ length: 16 }, (_, r): [number, number] => [X86.XMM0 + r, S_XMM + 2 * r]),
  [X86.MXCSR, S_MXCSR],
]);
const SYNCED_REGS = [...SLOT_OF_REG.keys()];
/** Unicorn register → 8-byte slot of the guest state, for the registers a fast trap may read (-1: none). */
const STATE_SLOT = new Int16Array(512).fill(-1);
GPR_BY_ENCODING.forEach((reg, r) => { STATE_SLOT[reg] = gprOff(r) >> 3; });
STATE_SLOT[X86.RIP] = OFF.RIP >> 3;
STATE_SLOT[X86.FS_BASE] = OFF.FS_BASE >> 3;
STATE_SLOT[X86.GS_BASE] = OFF.GS_BASE >> 3;
/** Guest instructions between looks at the clock (blocks chain within this budget). */
const BUDGET = 20000;

/** Marks guest-state bytes [off, off+len) defined and without origin: the engine set them. */
function markDefined(s: GuestState, off: number, len: number): void {
  s.bytes.fill(0, off + SHADOW_OFFSET, off + SHADOW_OFFSET + len);
  s.bytes.fill(0, off + ORIGIN_OFFSET, off + ORIGIN_OFFSET + len);
}

/** Per-thread translated-code state. */
interface ThreadState {
  readonly s: GuestState;
  /** `s` as 32-bit words. */
  readonly s32: Uint32Array;
  /** The register values last copied between Unicorn and `s` (what Unicorn holds unless the engine changed it). */
  out: BigUint64Array | undefined;
  /** `out` as 32-bit words. */
  out32: Uint32Array | undefined;
  /** Computes RFLAGS from `s` for Unicorn, when something reads it after a copy out. */
  readonly flags: () => bigint;
  /** Copies `s` out to Unicorn (handed to Unicorn as the pending copy of a fast trap). */
  readonly syncOut: () => void;
}

export class JitExecutor {
  readonly dispatcher: Dispatcher;
  readonly memory: ViewMemory;
  readonly stats: JitStats = { translatedInsns: 0, steppedInsns: 0, translations: 0, fastTranslations: 0, slowPaths: 0, compiled: 0, syscalls: 0 };
  private readonly env: InterpEnv;
  private readonly threads = new WeakMap<Thread, ThreadState>();
  /** The state being run, while translated code runs (helpers reporting errors look at it). */
  private running: ThreadState | undefined;
  /**
   * Called before every instruction when set (a debugger's breakpoints and steps, like a
   * Unicorn code hook): guest code then runs in one-instruction blocks, so that a stop it asks
   * for (requestStop) takes effect right before the instruction.
   */
  watch: ((pc: number) => void) | undefined;
  /** Translations of one instruction each, for watched runs. */
  private single: Dispatcher | undefined;
  private readonly fetch: (a: number, len: number) => Uint8Array | undefined;

  constructor(private readonly host: JitHost, private readonly tool: JitTool = {}) {
    const mem = host.mem;
    this.memory = new ViewMemory({
      readView: (a, len) => ((mem.find(a)?.perms ?? 0) & 1 ? mem.view(a, len) : undefined),
      writeView: (a, len) => ((mem.find(a)?.perms ?? 0) & 2 ? mem.view(a, len) : undefined),
    });
    this.fetch = (a, len) => {
      const r = mem.find(a);
      if (!r || !(r.perms & 4)) return undefined;
      return mem.view(a, Math.min(len, r.end - a));
    };
    const fused = tool.fuse && tool.fused?.(this.memory);
    const fuse = fused && tool.fuse;
    this.dispatcher = new Dispatcher(this.fetch, { instrument: tool.instrument, instrumentFast: tool.instrumentFast, fuse, chase: true });
    const engineHelpers: Record<string, DirtyFn> = {
      cpuid: (_ia, leaf, sub) => {
        const [a, b, c, d] = cpuid(Number(leaf), Number(sub));
        return BigInt(a >>> 0) | (BigInt(b >>> 0) << 32n) | (BigInt(c >>> 0) << 64n) | (BigInt(d >>> 0) << 96n);
      },
      rdtsc: () => BigInt.asUintN(64, process.hrtime.bigint()),
      fpcw: () => host.uc.reg_read(X86.FPCW) & 0xffffn,
    };
    this.env = { mem: this.memory, dirty: { ...engineHelpers, ...tool.dirty }, fused };
    mem.listen({
      mapped: (r) => this.codeChanged(r.start, r.end),
      unmapped: (start, end) => this.codeChanged(start, end),
      protected: (start, end) => this.codeChanged(start, end),
    });
  }

  /** Guest code or page permissions changed in [start, end): drop translations and cached pages. */
  codeChanged(start: number, end: number): void {
    this.dispatcher.invalidate(start, end);
    this.single?.invalidate(start, end);
    this.memory.invalidate();
  }

  /** Runs thread t (loaded in Unicorn) until its slice ends; Unicorn holds its state afterwards. */
  runSlice(t: Thread): void {
    const st = this.stateOf(t);
    const { host } = this;
    if (!st.out) this.tool.threadStarted?.(t, Number(host.uc.reg_read(X86.RSP)));
    this.syncIn(st);
    const s = st.s;
    this.running = st;
    try {
      for (;;) {
        let r;
        let d = this.dispatcher;
        let budget = BUDGET;
        if (this.watch) {
          this.single ??= new Dispatcher(this.fetch, { instrument: this.tool.instrument, maxInsns: 1, fuse: this.env.fused && this.tool.fuse });
          d = this.single;
          budget = 1;
          // The watcher looks at registers (a step-out compares stack pointers): give it the state.
          this.syncOut(st);
          this.watch(s.rip);
          if (host.sliceOver()) return this.syncOut(st);
        }
        try {
          r = d.run(s, this.env, budget);
        } catch (e) {
          if (!(e instanceof GuestMemoryFault)) throw e;
          // The lifter orders an instruction's register writes after its memory accesses: the
          // state is that before the faulting instruction, as a CPU fault leaves it.
          this.syncOut(st);
          host.setFault({ sig: 11, code: host.mem.find(e.addr) ? 2 : 1, addr: e.addr });
          return;
        }
        this.stats.translatedInsns += r.insns;
        const exit = r.exit;
        if (!exit) {
          if (host.sliceOver()) return this.syncOut(st);
          continue;
        }
        switch (exit.jk) {
          case 'Syscall': {
            s.rip = exit.insnAddr;
            const fast = host.fastTraps.get(exit.insnAddr);
            if (fast !== undefined) {
              if (this.runFastTrap(st, fast, exit.insnAddr, exit.next)) return;
              break;
            }
            this.syncOut(st);
            this.stats.syscalls++;
            if (!host.traps.has(exit.insnAddr)) this.tool.beforeSyscall?.(s);
            const stop = host.serviceSyscall(exit.insnAddr);
            if (this.resumeFromUnicorn(st, exit.insnAddr, exit.next) || stop) return;
            break;
          }
          case 'SigSEGV':
            // A misaligned 16-byte SSE access: #GP, which Linux delivers as SIGSEGV (SI_KERNEL).
            s.rip = exit.insnAddr;
            this.syncOut(st);
            host.setFault({ sig: 11, code: 0x80, addr: 0 });
            return;
          case 'SigTRAP': case 'SigILL': case 'SigFPE':
          case 'NoDecode':
            // Unicorn runs the instruction (and raises its trap exactly as in the untranslated engine).
            s.rip = exit.jk === 'NoDecode' ? exit.next : exit.insnAddr;
            this.syncOut(st);
            this.stats.steppedInsns++;
            if (host.stepOnUnicorn()) return;
            this.syncIn(st);
            if (host.sliceOver()) return;
            break;
          default:
            throw new Error(`translated code left with unexpected jump kind ${exit.jk}`);
        }
      }
    } finally {
      this.running = undefined;
      this.stats.translations = this.dispatcher.translations + (this.single?.translations ?? 0);
      this.stats.compiled = this.dispatcher.compiled + (this.single?.compiled ?? 0);
      this.stats.fastTranslations = this.dispatcher.fastTranslations;
      this.stats.slowPaths = this.dispatcher.slowPaths;
    }
  }

  /**
   * Runs a replaced function's trap from the translator's state: its arguments and the stack it
   * records come from `s`, and the state is copied to Unicorn only if something looks at Unicorn
   * meanwhile (a report, a fault); then the call ends as the slow path ends it. True when the
   * slice must end (the state is then in Unicorn).
   */
  private runFastTrap(st: ThreadState, fast: FastTrap, insnAddr: number, next: number): boolean {
    const { uc } = this.host;
    const s = st.s;
    this.stats.syscalls++;
    uc.setPendingSync(st.syncOut);
    const rax = fast(this.stateReg);
    if (!uc.syncPending) {
      // Something looked at Unicorn: the state is there now, so the call ends as the slow path's.
      uc.reg_write(X86.RAX, rax);
      return this.resumeFromUnicorn(st, insnAddr, next);
    }
    uc.setPendingSync(undefined);
    s.setGpr(RAX, rax);
    s.rip = next;
    // A replacement's result is defined, as a system call's is.
    markDefined(s, gprOff(RAX), 8);
    if (!this.host.sliceOver()) return false;
    this.syncOut(st);
    return true;
  }

  /**
   * Takes the state back from Unicorn after the engine serviced the syscall instruction at
   * insnAddr (going on after it unless the engine sent RIP elsewhere); rax comes back defined.
   * True when the slice must end.
   */
  private resumeFromUnicorn(st: ThreadState, insnAddr: number, next: number): boolean {
    const { uc } = this.host;
    if (uc.reg_read_num(X86.RIP) === insnAddr) uc.reg_write(X86.RIP, next);
    this.syncIn(st);
    // The result is defined, even when it equals the syscall number it replaced.
    markDefined(st.s, gprOff(RAX), 8);
    return this.host.sliceOver();
  }

  // Reads a register of the running thread from its guest state (what Unicorn would hold after a copy out).
  private readonly stateReg = (ucReg: number): bigint => {
    const slot = STATE_SLOT[ucReg];
    const st = this.running;
    return slot >= 0 && st !== undefined ? st.s.u64[slot] : this.host.uc.reg_read(ucReg);
  };

  /**
   * Writes the running state to Unicorn with RIP at insnAddr, so that a report made from inside
   * translated code (a helper's error) unwinds the guest's stack from the right place.
   */
  materialize(insnAddr: number): void {
    const st = this.running;
    if (!st) return;
    st.s.rip = insnAddr;
    this.syncOut(st);
  }

  /** The guest state of the running thread (undefined outside translated code). */
  get state(): GuestState | undefined {
    return this.running?.s;
  }

  private stateOf(t: Thread): ThreadState {
    let st = this.threads.get(t);
    if (!st) {
      const s = new GuestState();
      const state: ThreadState = {
        s, s32: new Uint32Array(s.dv.buffer), out: undefined, out32: undefined,
        flags: () => (state.out![S_FLAGS] = rflagsOf(s)),
        syncOut: () => this.syncOut(state),
      };
      st = state;
      this.threads.set(t, st);
    }
    return st;
  }

  // Unicorn → guest state, for registers that differ from the last copy (they become defined).
  // Only the registers written since the last copy are read, unless code ran on Unicorn or a
  // context was restored (then all of them): each read is a call into Unicorn.
  private syncIn(st: ThreadState): void {
    const { uc } = this.host;
    const first = !st.out;
    const out = st.out ?? (st.out = new BigUint64Array(N_SLOTS));
    st.out32 ??= new Uint32Array(out.buffer);
    // A pending RFLAGS nobody read is not needed any more: the state holds the flags.
    uc.setLazyEflags(undefined);
    const oldSp = out[RSP];
    const written = uc.takeWritten();
    if (first || written === 'all') {
      for (const reg of SYNCED_REGS) this.readReg(st, out, reg, first);
    } else {
      for (const reg of written) if (SLOT_OF_REG.has(reg)) this.readReg(st, out, reg, false);
    }
    if (!first && out[RSP] !== oldSp) this.tool.externalSpChange?.(Number(oldSp), Number(out[RSP]));
  }

  // Reads one register into the guest state; a changed value (or any, on the first copy) is defined and has no origin.
  private readReg(st: ThreadState, out: BigUint64Array, reg: number, all: boolean): void {
    const { uc } = this.host;
    const s = st.s;
    const slot = SLOT_OF_REG.get(reg)!;
    if (slot >= S_XMM && slot < S_MXCSR) {
      const r = (slot - S_XMM) >> 1;
      const b = uc.reg_read_bytes(reg, 16);
      const dv = new DataView(b.buffer, b.byteOffset, 16);
      const lo = dv.getBigUint64(0, true);
      const hi = dv.getBigUint64(8, true);
      if (all || lo !== out[slot] || hi !== out[slot + 1]) {
        s.bytes.set(b, xmmOff(r));
        out[slot] = lo;
        out[slot + 1] = hi;
        markDefined(s, xmmOff(r), 16);
      }
      return;
    }
    let v = uc.reg_read(reg);
    if (slot === S_MXCSR) v &= 0xffffffffn;
    if (slot === S_RIP) {
      s.u64[OFF.RIP >> 3] = v;
      out[slot] = v;
      return;
    }
    if (!all && v === out[slot]) return;
    out[slot] = v;
    if (slot < N_GPR) {
      s.u64[slot] = v;
      markDefined(s, gprOff(slot), 8);
    } else if (slot === S_FLAGS) {
      setRflags(s, v);
      markDefined(s, OFF.CC_OP, OFF.FS_BASE - OFF.CC_OP);
    } else if (slot === S_FS || slot === S_GS) {
      const off = slot === S_FS ? OFF.FS_BASE : OFF.GS_BASE;
      s.u64[off >> 3] = v;
      markDefined(s, off, 8);
    } else {
      s.dv.setUint32(OFF.MXCSR, Number(v), true);
      markDefined(s, OFF.MXCSR, 4);
    }
  }

  // Guest state → Unicorn, writing only what changed since the last copy. Values are compared as
  // 32-bit halves: reading a BigUint64Array element allocates a BigInt, and this runs at every
  // system call and engine trap. RFLAGS is left for Unicorn to compute when something reads it.
  private syncOut(st: ThreadState): void {
    const { uc } = this.host;
    const s = st.s;
    const out = st.out!;
    const o32 = st.out32!;
    const s32 = st.s32;
    for (let r = 0; r < N_GPR; r++) {
      const i = 2 * r;
      if (s32[i] !== o32[i] || s32[i + 1] !== o32[i + 1]) {
        const v = s.u64[r];
        uc.reg_write(GPR_BY_ENCODING[r], v);
        out[r] = v;
      }
    }
    const rip = s.u64[OFF.RIP >> 3];
    uc.reg_write(X86.RIP, rip);
    out[S_RIP] = rip;
    uc.setLazyEflags(st.flags);
    out[S_FLAGS] = FLAGS_UNKNOWN;
    this.syncSlot(st, S_FS, X86.FS_BASE, OFF.FS_BASE);
    this.syncSlot(st, S_GS, X86.GS_BASE, OFF.GS_BASE);
    for (let r = 0; r < 16; r++) {
      const k = 2 * (S_XMM + 2 * r);
      const o = xmmOff(r) >> 2;
      if (s32[o] !== o32[k] || s32[o + 1] !== o32[k + 1] || s32[o + 2] !== o32[k + 2] || s32[o + 3] !== o32[k + 3]) {
        uc.reg_write_bytes(X86.XMM0 + r, s.bytes.subarray(xmmOff(r), xmmOff(r) + 16));
        o32.set(s32.subarray(o, o + 4), k);
      }
    }
    const mxcsr = s32[OFF.MXCSR >> 2];
    if (mxcsr !== o32[2 * S_MXCSR]) {
      uc.reg_write(X86.MXCSR, mxcsr);
      out[S_MXCSR] = BigInt(mxcsr);
    }
    // These writes are the state's own: only what the engine writes from here on needs reading back.
    uc.takeWritten();
  }

  // One 64-bit state slot (fs/gs base) to Unicorn when it changed.
  private syncSlot(st: ThreadState, slot: number, reg: number, off: number): void {
    const s32 = st.s32;
    const o32 = st.out32!;
    const i = off >> 2;
    if (s32[i] !== o32[2 * slot] || s32[i + 1] !== o32[2 * slot + 1]) {
      const v = st.s.u64[off >> 3];
      this.host.uc.reg_write(reg, v);
      st.out![slot] = v;
    }
  }
}
