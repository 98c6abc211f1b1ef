/**
 * A guest process: one Unicorn engine, its address space, fds, threads and signals, and the run
 * loop that schedules threads one at a time (Valgrind's big lock) and services syscalls, faults
 * and signals. Knows nothing of memcheck: tools attach through the observer interfaces.
 */
import { HookHandle, Unicorn } from '../cpu/unicorn';
import * as C from '../cpu/x86-const';
import { X86 } from '../cpu/x86-const';
import { cpuid } from '../cpu/cpuid';
import { GuestMemory, PAGE } from '../memory/guest-memory';
import { DeviceRegistry, FdTable } from '../kernel/fd-table';
import { Kernel } from '../kernel/kernel';
import { NO_OBSERVER, SyscallObserver } from '../kernel/syscall-observer';
import { Thread } from './thread';
import { FaultInfo, SigAction, SIG, deliverSignal, sigreturn, ignoredByDefault, SIG_DFL, SIG_IGN, SA_RESETHAND } from './signals';
import { Log } from './log';
import { GuestDebugInfo } from './guest-debuginfo';
import { ClientRequests } from './client-requests';
import { FastTrap, JitExecutor, JitHost, JitTool } from './jit-executor';

/** How the guest ended. */
export interface ExitStatus {
  code?: number;
  signal?: number;
  fault?: FaultInfo;
  /** Registers and thread at the fatal fault, for the report. */
  faultThread?: Thread;
}

export interface ProcessOptions {
  traceSyscalls: boolean;
  log: Log;
  observer?: SyscallObserver;
  /** libdwfl's search path for separate debug files (see debugInfoSearchPath); libdw's default when absent. */
  debugInfoPath?: string;
}

/** Time slice of a thread while others are runnable, and the longest stretch without yielding to the event loop. */
const SLICE_MS = 20;
const YIELD_MS = 40;
const NEVER_ADDR = 0x800000000000;

export class GuestProcess implements JitHost {
  readonly uc = new Unicorn();
  readonly mem = new GuestMemory(this.uc);
  readonly fds = new FdTable();
  /** libdw's view of the guest, fed by the address-space listener from the first mapping on. */
  readonly debug: GuestDebugInfo;
  /** Valgrind client requests found in the guest's code. */
  readonly clientRequests: ClientRequests;
  readonly kernel: Kernel;
  readonly pid = process.pid;
  readonly threads: Thread[] = [];
  readonly sigactions = new Map<number, SigAction>();
  /** Process-directed signals waiting for a thread that does not block them. */
  pendingSignals: FaultInfo[] = [];
  observer: SyscallObserver;
  /**
   * Engine traps planted in guest code as a `syscall` instruction (replaced functions, client
   * requests): the syscall hook runs the trap registered at its address instead of a syscall.
   */
  readonly traps = new Map<number, () => void>();
  /** The traps that can also run from the translator's state (replaced functions), by address. */
  readonly fastTraps = new Map<number, FastTrap>();
  /** Each planted trap's code and where it was planted: the file and offset it patched. */
  private readonly trapCode = new Map<number, { code: Uint8Array; file: string; fileOffset: number }>();
  private stubPage = 0;
  private stubCount = 0;
  /**
   * Guest functions called at exit_group before the process ends, as Valgrind runs glibc's
   * __libc_freeres (and libstdc++'s __gnu_cxx::__freeres) so that their private allocations do
   * not show up as leaks. Found by name when the process exits.
   */
  freeresNames: string[] = [];
  private exitingCode: number | undefined;
  /**
   * Keep the event loop served even while the guest computes without syscalls (a debugger must
   * be able to pause a busy loop): a cheap block hook ends each slice after SLICE_MS.
   */
  responsive = false;
  /** A pause asked for (debugger stop, stop-on-error): the run loop hands it to onStopped and waits. */
  private stopRequest: unknown;
  /** A tool's view of a fault before it is raised (memcheck reports the invalid access first, as Valgrind does). */
  onInvalidAccess: ((ucMemType: number, addr: number, size: number) => void) | undefined;
  /** Called by the run loop when a requested stop takes effect; the guest stays stopped until it resolves. */
  onStopped: ((reason: unknown) => Promise<void>) | undefined;
  /** Engine devices (Xen), consulted by open() before the host. */
  devices: DeviceRegistry | undefined;
  current: Thread;
  exit: ExitStatus | undefined;
  /** The translator, when guest code runs on it (enableJit); Unicorn runs it otherwise. */
  jit: JitExecutor | undefined;
  /** Set by hooks to make the run loop look at the current thread before going on. */
  private fault: FaultInfo | undefined;
  private sliceStart = 0;
  /** Block hook that preempts threads; installed only while more than one thread lives (it costs a callback per block). */
  private preemptHook: HookHandle | undefined;
  private blockCount = 0;
  /** Work that must not happen inside a Unicorn callback (installing hooks does not work there). */
  private readonly deferred: Array<() => void> = [];
  private emulating = false;
  private nextTid: number;
  /** Executable path, argv and the auxv as written, for /proc/self/*. */
  exePath = '';
  argv: string[] = [];
  auxv: Array<[number, number]> = [];
  brkStart = 0;
  brkCur = 0;
  /** Host signals (SIGINT/SIGTERM) sent to unigrind, delivered to the guest at a safe point. */
  private readonly hostSignals: number[] = [];

  constructor(readonly opts: ProcessOptions) {
    this.debug = new GuestDebugInfo(this.mem, { debugInfoPath: opts.debugInfoPath });
    this.observer = opts.observer ?? NO_OBSERVER;
    this.clientRequests = new ClientRequests(this);
    this.kernel = new Kernel(this);
    this.nextTid = this.pid + 1;
    this.current = new Thread(this.pid, 1);
    this.threads.push(this.current);
    // QEMU's CR4 starts at 0; FXSAVE/FXRSTOR skip XMM registers unless OSFXSR is set (ld.so's lazy binding uses them).
    this.uc.reg_write(X86.CR4, this.uc.reg_read(X86.CR4) | (1n << 9n) | (1n << 10n));
    this.installHooks();
    this.mem.listen({
      mapped: (r) => {
        // Only into the same bytes of the same file: another object mapped where an unloaded
        // one was (a dlopen that failed, then another) keeps its own code, and writing to a
        // page past the end of its file would kill the host with SIGBUS.
        for (const [a, t] of this.trapCode) {
          if (a >= r.start && a < r.end && r.name !== '' && r.name === t.file && r.fileOffset + (a - r.start) === t.fileOffset) {
            this.writeTrap(a, t.code);
          }
        }
      },
    });
  }

  private installHooks(): void {
    const uc = this.uc;
    uc.hook_add(C.UC_HOOK_INSN, () => this.onSyscall(), 1, 0, C.UC_X86_INS_SYSCALL);
    uc.hook_add(C.UC_HOOK_INSN, () => {
      const [ea, eb, ec, ed] = cpuid(Number(uc.reg_read(X86.RAX) & 0xffffffffn), Number(uc.reg_read(X86.RCX) & 0xffffffffn));
      uc.reg_write(X86.RAX, ea >>> 0);
      uc.reg_write(X86.RBX, eb >>> 0);
      uc.reg_write(X86.RCX, ec >>> 0);
      uc.reg_write(X86.RDX, ed >>> 0);
      return 1;
    }, 1, 0, C.UC_X86_INS_CPUID);
    uc.hook_add(C.UC_HOOK_MEM_INVALID, (_h: unknown, type: number, address: number | bigint, size: number) => {
      const addr = Number(address);
      this.onInvalidAccess?.(type, addr, size);
      const mapped = this.mem.find(addr) !== undefined;
      // Returning false makes Unicorn raise the fault with the CPU state restored to the faulting
      // instruction; an emu_stop here would leave RIP at the start of the block instead.
      this.fault = { sig: SIG.SIGSEGV, code: mapped ? 2 : 1, addr };
      return false;
    });
    // With any memory hook installed, Unicorn keeps RIP exact at each memory access, so a fault
    // reports its own instruction instead of the start of its block. This one watches an address
    // in the non-canonical hole, so it never fires and costs nothing measurable.
    uc.hook_add(C.UC_HOOK_MEM_WRITE, () => undefined, NEVER_ADDR, NEVER_ADDR);
    uc.hook_add(C.UC_HOOK_INTR, (_h: unknown, intno: number) => {
      const rip = uc.reg_read_num(X86.RIP);
      const byNo: Record<number, FaultInfo> = {
        0: { sig: SIG.SIGFPE, code: 1, addr: rip },
        1: { sig: SIG.SIGTRAP, code: 2, addr: rip },
        3: { sig: SIG.SIGTRAP, code: 0x80, addr: 0 },
        4: { sig: SIG.SIGSEGV, code: 0x80, addr: 0 },
        5: { sig: SIG.SIGSEGV, code: 0x80, addr: 0 },
        6: { sig: SIG.SIGILL, code: 2, addr: rip },
        13: { sig: SIG.SIGSEGV, code: 0x80, addr: 0 },
        14: { sig: SIG.SIGSEGV, code: 1, addr: 0 },
      };
      this.stopWithFault(byNo[intno] ?? { sig: SIG.SIGSEGV, code: 0x80, addr: 0 });
    });
    uc.hook_add(C.UC_HOOK_INSN_INVALID, () => {
      this.stopWithFault({ sig: SIG.SIGILL, code: 2, addr: uc.reg_read_num(X86.RIP) });
      return false;
    });
  }

  /** Runs fn now when the CPU is stopped, or as soon as it stops (the current callback ends emulation). */
  whenStopped(fn: () => void): void {
    if (!this.emulating) {
      fn();
      return;
    }
    this.deferred.push(fn);
    this.uc.emu_stop();
  }

  /**
   * Plants `code` (which starts with a `syscall` instruction, 0f 05) at addr in guest code and
   * runs fn whenever it executes. Planted again whenever the same bytes of the same file are
   * mapped anew (ld.so maps a library's whole span first and its text segment over it afterwards).
   */
  plantTrap(addr: number, code: Uint8Array, fn: () => void, fresh = false, fast?: FastTrap): void {
    this.traps.set(addr, fn);
    if (fast) this.fastTraps.set(addr, fast);
    else this.fastTraps.delete(addr);
    const r = this.mem.find(addr);
    this.trapCode.set(addr, { code, file: r?.name ?? '', fileOffset: r ? r.fileOffset + (addr - r.start) : 0 });
    this.writeTrap(addr, code, fresh);
  }

  /** An engine-owned entry point in guest memory (`syscall; ret`) whose execution runs fn. */
  stub(fn: () => void): number {
    const addr = this.stubAddress();
    // A fresh slot was never translated: no cached block to drop, so no need to stop the CPU
    // (which matters when a stub is made inside a syscall hook that also redirects RIP).
    this.plantTrap(addr, new Uint8Array([0x0f, 0x05, 0xc3]), fn, true);
    return addr;
  }

  /** A fresh 16-byte slot of engine-owned guest memory, for a stub's trap (plantTrap with fresh set). */
  stubAddress(): number {
    if (!this.stubPage || this.stubCount % (PAGE / 16) === 0) {
      const at = this.mem.findFree(PAGE);
      if (at === undefined) throw new Error('no room in the guest address space for engine stubs');
      this.mem.map(at, PAGE, 5, '');
      this.stubPage = at;
    }
    return this.stubPage + (this.stubCount++ % (PAGE / 16)) * 16;
  }

  /**
   * exit_group: the process ends, after running the freeres functions on the calling thread
   * (other threads are gone by then, as under Valgrind).
   */
  exitGroup(code: number): void {
    if (this.exitingCode !== undefined || this.freeresNames.length === 0) {
      this.exit = { code: this.exitingCode ?? code };
      return;
    }
    this.exitingCode = code;
    const info = this.debug.get();
    const calls = this.freeresNames.flatMap((n) => info.findSymbols(n).map((s) => s.address));
    for (const t of this.threads) if (t !== this.current) t.state = 'dead';
    // Chain: each freeres returns into the next, the last into a stub that really exits.
    let ret = this.stub(() => {
      this.exit = { code };
    });
    const uc = this.uc;
    let sp = uc.reg_read_num(X86.RSP) - 256;
    sp -= sp % 16;
    for (const fnAddr of calls.reverse()) {
      sp -= 8;
      this.mem.writeU64(sp, ret);
      ret = fnAddr;
    }
    uc.reg_write(X86.RSP, sp);
    uc.reg_write(X86.RIP, ret);
  }

  private writeTrap(addr: number, code: Uint8Array, fresh = false): void {
    const v = this.mem.view(addr, code.length);
    if (!v) return;
    v.set(code);
    this.jit?.codeChanged(addr, addr + code.length);
    if (!fresh) this.whenStopped(() => this.uc.ctl_remove_cache(addr, addr + code.length));
  }

  /** A fault inside engine code acting for the guest (a replaced function touching unmapped memory): SIGSEGV at addr. */
  guestFault(addr: number): void {
    this.fault = { sig: SIG.SIGSEGV, code: this.mem.find(addr) ? 2 : 1, addr };
  }

  private stopWithFault(f: FaultInfo): void {
    this.fault = f;
    this.uc.emu_stop();
  }

  // Unicorn's emu_start timeout stops the CPU from another thread and corrupted guest state in
  // practice (python3 crashed or hung at random); so slices end at syscalls, or in a block hook.
  private updatePreemption(): void {
    const live = this.threads.filter((x) => x.state !== 'dead').length;
    if ((live > 1 || this.responsive) && !this.preemptHook) {
      this.preemptHook = this.uc.hook_add(C.UC_HOOK_BLOCK, () => {
        if (++this.blockCount % 4096 === 0 && Date.now() - this.sliceStart > SLICE_MS) this.uc.emu_stop();
      });
    } else if (live <= 1 && !this.responsive && this.preemptHook) {
      this.uc.hook_del(this.preemptHook);
      this.preemptHook = undefined;
    }
  }

  private onSyscall(): void {
    const rip0 = this.uc.reg_read_num(X86.RIP);
    const stop = this.serviceSyscall(rip0);
    // Unicorn adds the syscall's length to RIP after the hook, even when the hook set RIP
    // (rt_sigreturn, the exit-time freeres calls): compensate so the guest lands where we aimed.
    const rip1 = this.uc.reg_read_num(X86.RIP);
    if (rip1 !== rip0) this.uc.reg_write(X86.RIP, rip1 - 2);
    if (stop) this.uc.emu_stop();
  }

  /**
   * Services the `syscall` instruction at rip0 of the current thread (an engine trap planted
   * there, or a system call for the kernel), with the CPU state in Unicorn and RIP at rip0.
   * Returns true when the run loop must look at the thread before it goes on.
   */
  serviceSyscall(rip0: number): boolean {
    const t = this.current;
    if (this.traps.size) {
      const trap = this.traps.get(rip0);
      if (trap) {
        trap();
        return this.exit !== undefined || this.fault !== undefined || this.stopRequest !== undefined;
      }
    }
    const r = this.kernel.dispatch(t);
    if (typeof r === 'number') {
      this.uc.reg_write(X86.RAX, BigInt(r));
    } else {
      t.state = 'blocked';
      t.blocked = r;
    }
    return this.exit !== undefined || t.state !== 'runnable' || this.hasDeliverableSignal(t) || this.stopRequest !== undefined
      || Date.now() - this.sliceStart > YIELD_MS;
  }

  /** Runs guest code on the translator from now on; the tool instruments it. Call before the guest runs. */
  enableJit(tool?: JitTool): JitExecutor {
    this.jit = new JitExecutor(this, tool);
    return this.jit;
  }

  /** Executes the instruction at RIP on Unicorn (for the translator); true when it faulted or ended the process. */
  stepOnUnicorn(): boolean {
    this.emulating = true;
    const rc = this.uc.emu_start(this.uc.reg_read_num(X86.RIP), 0, 0, 1);
    this.emulating = false;
    for (const fn of this.deferred.splice(0)) fn();
    if (rc !== 0 && !this.fault) this.fault = { sig: rc === C.UC_ERR_INSN_INVALID ? SIG.SIGILL : SIG.SIGSEGV, code: 0x80, addr: 0 };
    return this.fault !== undefined || this.exit !== undefined;
  }

  /** Records a fault of the current thread for the run loop to deliver. */
  setFault(f: FaultInfo): void {
    this.fault = f;
  }

  /** True when the translator should give the run loop control (time slice over, stop asked for, process ended). */
  sliceOver(): boolean {
    if (this.exit || this.fault || this.stopRequest !== undefined) return true;
    const live = this.threads.length > 1 && this.threads.some((x) => x !== this.current && x.state !== 'dead');
    return Date.now() - this.sliceStart > (live || this.responsive ? SLICE_MS : YIELD_MS);
  }

  /** Creates a thread (clone with CLONE_THREAD) whose CPU state is the current one with the given changes. */
  spawnThread(sp: number, tls: number | undefined, setTls: boolean): Thread {
    const t = new Thread(this.nextTid++, this.threads.length + 1);
    const saved = this.uc.context_save();
    const rsp = this.uc.reg_read(X86.RSP);
    const rax = this.uc.reg_read(X86.RAX);
    const fs = this.uc.reg_read(X86.FS_BASE);
    const rip = this.uc.reg_read(X86.RIP);
    // Inside the syscall hook RIP still names the syscall instruction (2 bytes): the child resumes after it.
    this.uc.reg_write(X86.RIP, rip + 2n);
    this.uc.reg_write(X86.RSP, sp);
    this.uc.reg_write(X86.RAX, 0);
    if (setTls && tls !== undefined) this.uc.reg_write(X86.FS_BASE, tls);
    t.ctx = this.uc.context_save();
    this.uc.context_restore(saved);
    this.uc.context_free(saved);
    this.uc.reg_write(X86.RSP, rsp);
    this.uc.reg_write(X86.RAX, rax);
    this.uc.reg_write(X86.FS_BASE, fs);
    this.uc.reg_write(X86.RIP, rip);
    t.sigmask = this.current.sigmask;
    this.threads.push(t);
    return t;
  }

  /** Ends the calling thread (exit(2)); the process ends with the last one. */
  exitThread(t: Thread, code: number): void {
    t.state = 'dead';
    if (t.clearChildTid) {
      try {
        this.mem.write(t.clearChildTid, new Uint8Array(4));
        this.kernel.futexWake(t.clearChildTid, 1);
      } catch {
        // A freed stack: Linux ignores the fault too.
      }
    }
    if (this.threads.every((x) => x.state === 'dead')) this.exit = { code };
  }

  /** Queues a signal for the process (kill) or one thread (tgkill). */
  raise(sig: number, target?: Thread, info?: Partial<FaultInfo>): void {
    const f: FaultInfo = { sig, code: info?.code ?? 0, addr: 0, pid: info?.pid ?? this.pid };
    if (target) target.pending.push(f);
    else this.pendingSignals.push(f);
  }

  private hasDeliverableSignal(t: Thread): boolean {
    return [...t.pending, ...this.pendingSignals].some((f) => (t.sigmask & (1n << BigInt(f.sig - 1))) === 0n);
  }

  /** Runs the guest until it exits; yields to the event loop regularly so host signals and debugger requests get through. */
  async run(): Promise<ExitStatus> {
    const onHostSignal = (name: NodeJS.Signals): void => {
      this.hostSignals.push(name === 'SIGINT' ? SIG.SIGINT : SIG.SIGTERM);
    };
    process.on('SIGINT', onHostSignal);
    process.on('SIGTERM', onHostSignal);
    try {
      let lastYield = Date.now();
      while (!this.exit) {
        this.runSlice();
        if (this.stopRequest !== undefined && !this.exit) {
          const reason = this.stopRequest;
          this.stopRequest = undefined;
          await this.onStopped?.(reason);
          lastYield = Date.now();
        }
        if (Date.now() - lastYield > YIELD_MS) {
          await new Promise((r) => setImmediate(r));
          lastYield = Date.now();
          for (const s of this.hostSignals.splice(0)) this.raise(s);
        }
      }
      return this.exit;
    } finally {
      process.off('SIGINT', onHostSignal);
      process.off('SIGTERM', onHostSignal);
    }
  }

  /** Asks the run loop to stop the guest as soon as possible (from a hook: after the current instruction). */
  requestStop(reason: unknown): void {
    this.stopRequest = reason;
    if (this.emulating) this.uc.emu_stop();
  }

  /** Executes exactly one instruction of the current thread (debugger stepping). */
  stepInstruction(): void {
    this.emulating = true;
    this.uc.emu_start(this.uc.reg_read_num(X86.RIP), 0, 0, 1);
    this.emulating = false;
    for (const fn of this.deferred.splice(0)) fn();
  }

  /** Runs one thread for one time slice (or until it blocks, faults or exits). */
  runSlice(): void {
    const t = this.pickThread();
    if (!t) return;
    this.switchTo(t);
    if (t.pendingResult !== undefined) {
      this.uc.reg_write(X86.RAX, BigInt(t.pendingResult));
      t.pendingResult = undefined;
    }
    this.deliverPendingSignals(t);
    if (this.exit || t.state !== 'runnable') return;
    this.fault = undefined;
    this.sliceStart = Date.now();
    let rc = 0;
    if (this.jit) {
      this.jit.runSlice(t);
    } else {
      this.updatePreemption();
      this.emulating = true;
      rc = this.uc.emu_start(this.uc.reg_read_num(X86.RIP), 0, 0, 0);
      this.emulating = false;
      for (const fn of this.deferred.splice(0)) fn();
    }
    if (this.fault || rc !== 0) {
      const f = this.fault ?? { sig: rc === C.UC_ERR_INSN_INVALID ? SIG.SIGILL : SIG.SIGSEGV, code: 0x80, addr: 0 };
      this.handleFault(t, f);
    }
  }

  private handleFault(t: Thread, f: FaultInfo): void {
    const act = this.sigactions.get(f.sig);
    const blocked = (t.sigmask & (1n << BigInt(f.sig - 1))) !== 0n;
    if (act && act.handler !== SIG_DFL && act.handler !== SIG_IGN && !blocked) {
      this.deliver(t, act, f);
      return;
    }
    this.exit = { signal: f.sig, fault: f, faultThread: t };
  }

  private deliverPendingSignals(t: Thread): void {
    for (const queue of [t.pending, this.pendingSignals]) {
      for (let i = 0; i < queue.length; i++) {
        const f = queue[i];
        if ((t.sigmask & (1n << BigInt(f.sig - 1))) !== 0n) continue;
        queue.splice(i--, 1);
        const act = this.sigactions.get(f.sig);
        if (!act || act.handler === SIG_DFL) {
          if (ignoredByDefault(f.sig)) continue;
          this.exit = { signal: f.sig, fault: f, faultThread: t };
          return;
        }
        if (act.handler === SIG_IGN) continue;
        this.deliver(t, act, f);
        // A thread blocked in a syscall is interrupted: the handler runs, then the call fails with EINTR.
        if (t.state === 'blocked') {
          t.state = 'runnable';
          t.blocked = undefined;
          this.uc.reg_write(X86.RAX, BigInt(-4));
        }
      }
    }
  }

  private deliver(t: Thread, act: SigAction, f: FaultInfo): void {
    deliverSignal(this.uc, this.mem, t, act, f, () => this.saveFp());
    if (act.flags & SA_RESETHAND) this.sigactions.delete(f.sig);
  }

  /** rt_sigreturn for the current thread. */
  sigreturn(): void {
    sigreturn(this.uc, this.mem, this.current, (b) => this.restoreFp(b));
  }

  // FXSAVE-shaped image of the SSE state: FCW at 0, MXCSR at 24, XMM0-15 at 160.
  private saveFp(): Uint8Array {
    const b = new Uint8Array(512);
    const dv = new DataView(b.buffer);
    dv.setUint16(0, Number(this.uc.reg_read(X86.FPCW)), true);
    dv.setUint32(24, Number(this.uc.reg_read(X86.MXCSR)), true);
    for (let i = 0; i < 16; i++) b.set(this.uc.reg_read_bytes(X86.XMM0 + i, 16), 160 + i * 16);
    return b;
  }

  private restoreFp(b: Uint8Array): void {
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    this.uc.reg_write(X86.FPCW, dv.getUint16(0, true));
    this.uc.reg_write(X86.MXCSR, dv.getUint32(24, true));
    for (let i = 0; i < 16; i++) this.uc.reg_write_bytes(X86.XMM0 + i, b.subarray(160 + i * 16, 176 + i * 16));
  }

  private switchTo(t: Thread): void {
    if (t === this.current && !t.ctx) return;
    const cur = this.current;
    if (cur !== t && cur.state !== 'dead' && !cur.ctx) cur.ctx = this.uc.context_save();
    if (t.ctx) {
        this.uc.context_restore(t.ctx);
      this.uc.context_free(t.ctx);
      t.ctx = undefined;
    }
    this.current = t;
  }

  /** The next thread to run, round-robin; waits (on the host) while every live thread is blocked. */
  private pickThread(): Thread | undefined {
    for (;;) {
      const live = this.threads.filter((x) => x.state !== 'dead');
      for (const x of live) this.tryResume(x);
      const start = this.threads.indexOf(this.current);
      for (let k = 1; k <= this.threads.length; k++) {
        const x = this.threads[(start + k) % this.threads.length];
        if (x.state === 'runnable') return x;
      }
      if (live.length === 0) return undefined;
      this.waitForAny(live);
      if (this.exit) return undefined;
    }
  }

  private tryResume(x: Thread): void {
    if (x.state !== 'blocked' || !x.blocked) return;
    const r = x.blocked.resume();
    if (r !== undefined) {
      x.state = 'runnable';
      x.blocked = undefined;
      x.pendingResult = r;
    }
  }

  // Every thread waits: sleep in the host until an fd is ready or a deadline passes, instead of spinning.
  private waitForAny(live: Thread[]): void {
    const fds = live.flatMap((x) => x.blocked?.waitFds ?? []);
    const deadlines = live.map((x) => x.blocked?.deadline).filter((d): d is number => d !== undefined);
    let timeout = deadlines.length ? Math.max(0, Math.min(...deadlines) - Date.now()) : 50;
    if (this.hostSignals.length || this.pendingSignals.length) timeout = 0;
    if (!fds.length && !deadlines.length && live.every((x) => x.blocked && !x.blocked.waitFds)) {
      // Only futex waiters with no timeout: nothing on the host can wake them.
      if (live.every((x) => (x.blocked as { futex?: number } | undefined)?.futex !== undefined)) {
        this.opts.log.line(`unigrind: all ${live.length} guest thread(s) are blocked waiting on futexes with no timeout: the program is deadlocked`);
        this.exit = { code: 1 };
        return;
      }
    }
    this.kernel.hostPoll(fds, Math.min(timeout, 50));
    for (const x of live) {
      if (x.state === 'blocked' && x.pending.length + this.pendingSignals.length > 0) {
        // Let signal delivery interrupt the wait.
        x.state = 'runnable';
        x.pendingResult = -4;
        x.blocked = undefined;
      }
    }
  }

  /** Thread id of the current thread (gettid). */
  get tid(): number {
    return this.current.tid;
  }

  /** Kills the host process the way the guest died, after reports are written (as Valgrind re-raises the signal). */
  static dieBySignal(sig: number): never {
    process.kill(process.pid, sig);
    process.exit(128 + sig);
  }
}

