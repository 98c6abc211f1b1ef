/**
 * Unicorn 2 (Debian libunicorn2) through koffi, as a small class whose methods mirror unicorn.js
 * (reg_read, mem_map_ptr, hook_add, emu_start, …), so that its documentation is Unicorn's and a
 * published unicorn.js could replace this one file.
 */
import koffi from 'koffi';
import * as C from './x86-const';

type Ptr = unknown;

const lib = (() => {
  try {
    return koffi.load('libunicorn.so.2');
  } catch {
    throw new Error("cannot load libunicorn.so.2 (install Debian's libunicorn2: apt-get install libunicorn2)");
  }
})();

const codeHookProto = koffi.proto('void uc_cb_hookcode_t(void *uc, uint64_t address, uint32_t size, void *user_data)');
const intrHookProto = koffi.proto('void uc_cb_hookintr_t(void *uc, uint32_t intno, void *user_data)');
const insnHookProto = koffi.proto('void uc_cb_insn_syscall_t(void *uc, void *user_data)');
const insnRetHookProto = koffi.proto('int uc_cb_insn_cpuid_t(void *uc, void *user_data)');
const memHookProto = koffi.proto('void uc_cb_hookmem_t(void *uc, int type, uint64_t address, int size, int64_t value, void *user_data)');
const memEventProto = koffi.proto('bool uc_cb_eventmem_t(void *uc, int type, uint64_t address, int size, int64_t value, void *user_data)');
const invalidInsnProto = koffi.proto('bool uc_cb_hookinsn_invalid_t(void *uc, void *user_data)');

const F = {
  uc_open: lib.func('int uc_open(int arch, int mode, _Out_ void **uc)'),
  uc_close: lib.func('int uc_close(void *uc)'),
  uc_strerror: lib.func('const char *uc_strerror(int code)'),
  uc_reg_read: lib.func('int uc_reg_read(void *uc, int regid, _Out_ void *value)'),
  uc_reg_write: lib.func('int uc_reg_write(void *uc, int regid, void *value)'),
  uc_reg_read_batch: lib.func('int uc_reg_read_batch(void *uc, int *regs, void **vals, int count)'),
  uc_mem_read: lib.func('int uc_mem_read(void *uc, uint64_t address, _Out_ void *bytes, size_t size)'),
  uc_mem_write: lib.func('int uc_mem_write(void *uc, uint64_t address, void *bytes, size_t size)'),
  uc_mem_map_ptr: lib.func('int uc_mem_map_ptr(void *uc, uint64_t address, size_t size, uint32_t perms, uint64_t ptr)'),
  uc_mem_unmap: lib.func('int uc_mem_unmap(void *uc, uint64_t address, size_t size)'),
  uc_mem_protect: lib.func('int uc_mem_protect(void *uc, uint64_t address, size_t size, uint32_t perms)'),
  uc_emu_start: lib.func('int uc_emu_start(void *uc, uint64_t begin, uint64_t until, uint64_t timeout, size_t count)'),
  uc_emu_stop: lib.func('int uc_emu_stop(void *uc)'),
  uc_hook_add: lib.func('int uc_hook_add(void *uc, _Out_ size_t *hh, int type, void *callback, void *user_data, uint64_t begin, uint64_t end, ...)'),
  uc_hook_del: lib.func('int uc_hook_del(void *uc, size_t hh)'),
  uc_ctl: lib.func('int uc_ctl(void *uc, int control, ...)'),
  uc_context_alloc: lib.func('int uc_context_alloc(void *uc, _Out_ void **context)'),
  uc_context_save: lib.func('int uc_context_save(void *uc, void *context)'),
  uc_context_restore: lib.func('int uc_context_restore(void *uc, void *context)'),
  uc_context_free: lib.func('int uc_context_free(void *context)'),
  uc_context_reg_read: lib.func('int uc_context_reg_read(void *context, int regid, _Out_ void *value)'),
};

/** An error returned by a Unicorn call, with Unicorn's own message. */
export class UnicornError extends Error {
  constructor(readonly code: number, what: string) {
    super(`${what}: ${F.uc_strerror(code) as string} (UC_ERR_${C.UC_ERR_NAMES[code] ?? code})`);
  }
}

function check(code: number, what: string): void {
  if (code !== 0) throw new UnicornError(code, what);
}

/** Handle of an installed hook (keeps its JS callback alive while installed). */
export interface HookHandle { id: bigint | number; callback: unknown }

/** An opaque saved CPU context (uc_context). */
export interface CpuContext { ptr: Ptr }

// Unicorn's control numbers are built like ioctl numbers: io direction in bits 30-31, arg count in 26-29.
function ucCtl(type: number, nargs: number, io: number): number {
  return (io << 30) | (nargs << 26) | type;
}

const REG_LIMIT = 512;
/** 1 for the registers reg_read/reg_write cache: plain 64-bit registers that nothing else aliases. */
const CACHED64 = new Uint8Array(REG_LIMIT);
for (const r of [...C.GPR_BY_ENCODING, C.X86.RIP, C.X86.EFLAGS, C.X86.FS_BASE, C.X86.GS_BASE]) CACHED64[r] = 1;
/** Registers written straight to Unicorn that overlap no cached register. */
const WRITE_KEEPS_CACHE = new Set<number>([C.X86.MXCSR, C.X86.FPCW, C.X86.FPSW, C.X86.FPTAG]);

/** One Unicorn engine (x86-64 by default). */
export class Unicorn {
  private handle: Ptr;
  private readonly u64 = new BigUint64Array(1);
  private readonly u64_32 = new Uint32Array(this.u64.buffer);
  private readonly hooks = new Set<HookHandle>();

  constructor(arch = C.UC_ARCH_X86, mode = C.UC_MODE_64) {
    const out: Ptr[] = [null];
    check(F.uc_open(arch, mode, out) as number, 'uc_open');
    this.handle = out[0];
  }

  /**
   * A write-back cache of the plain registers (general registers, rip, fs/gs base, xmm): between
   * runs the engine reads and writes registers many times (the translator copies its state out at
   * every system call and engine trap, an unwind reads 17 registers), and each FFI call costs
   * more than the work it carries. Values written are kept in JS and reach Unicorn before it runs
   * or saves a context; inside emu_start (hooks) every access goes straight to Unicorn.
   */
  private readonly cacheVal = new BigUint64Array(REG_LIMIT);
  private readonly cache32 = new Uint32Array(this.cacheVal.buffer);
  private readonly cacheXmm = new Uint8Array(16 * 16);
  /** A register's cached value is valid when its epoch is the current one. */
  private readonly cacheEpoch = new Uint32Array(REG_LIMIT);
  private epoch = 1;
  private readonly isDirty = new Uint8Array(REG_LIMIT);
  private readonly dirty: number[] = [];
  private running = 0;
  /**
   * Supplies EFLAGS when something first needs it: the translator keeps flags as a thunk, and
   * most engine traps never look at them, so it hands over a function instead of a value.
   */
  private lazyEflags: (() => bigint) | undefined;

  /**
   * Copies a caller's CPU state in before the first register access, run or context operation:
   * the translator calls replaced functions without copying its state out, since most of them
   * only read their arguments (through the translator's own state), and pays for the copy only
   * when something looks at Unicorn.
   */
  private pendingSync: (() => void) | undefined;

  /** Sets (or clears) the function that must run before Unicorn's registers are next used. */
  setPendingSync(fn: (() => void) | undefined): void {
    this.pendingSync = fn;
  }

  /** True while the function given to setPendingSync has not run. */
  get syncPending(): boolean {
    return this.pendingSync !== undefined;
  }

  // Runs the pending copy, if any (first thing in every method that uses the registers).
  private settle(): void {
    const fn = this.pendingSync;
    if (fn === undefined) return;
    this.pendingSync = undefined;
    fn();
  }

  /** Sets (or clears) the function that computes EFLAGS on first use; a write of EFLAGS replaces it. */
  setLazyEflags(fn: (() => bigint) | undefined): void {
    this.lazyEflags = fn;
  }

  // Turns a pending lazy EFLAGS into a cached write (not one the engine made: takeWritten omits it).
  private resolveEflags(): void {
    const fn = this.lazyEflags;
    if (fn === undefined) return;
    this.lazyEflags = undefined;
    const reg = C.X86.EFLAGS;
    this.cacheVal[reg] = fn() | 2n;
    this.cacheEpoch[reg] = this.epoch;
    this.markDirty(reg);
  }

  /** Reads a register as a BigInt (64-bit registers). */
  reg_read(reg: number): bigint {
    this.settle();
    if (this.lazyEflags !== undefined && reg === C.X86.EFLAGS) this.resolveEflags();
    if (this.running === 0 && CACHED64[reg] === 1) {
      if (this.cacheEpoch[reg] === this.epoch) return this.cacheVal[reg];
      check(F.uc_reg_read(this.handle, reg, this.u64) as number, 'uc_reg_read');
      this.cacheVal[reg] = this.u64[0];
      this.cacheEpoch[reg] = this.epoch;
      return this.u64[0];
    }
    if (!WRITE_KEEPS_CACHE.has(reg)) this.flush();
    check(F.uc_reg_read(this.handle, reg, this.u64) as number, 'uc_reg_read');
    return this.u64[0];
  }

  /** Reads a register known to hold a value below 2^53 (addresses) as a Number. */
  reg_read_num(reg: number): number {
    this.reg_read(reg);
    // From the 32-bit halves: Number(bigint) is a slow runtime call in V8.
    if (this.running === 0 && CACHED64[reg] === 1) return this.cache32[2 * reg + 1] * 4294967296 + this.cache32[2 * reg];
    return this.u64_32[1] * 4294967296 + this.u64_32[0];
  }

  /**
   * Registers written since takeWritten() (or every register, after code ran or a context was
   * restored): lets a caller that copies the CPU state out read back only what changed.
   */
  private written = new Set<number>();
  /** The set takeWritten handed out last time, reused for the next round (this runs at every trap). */
  private handedOut = new Set<number>();
  private allWritten = true;

  /**
   * The registers written since the last call ('all' when code ran or a context was restored), and
   * forgets them. The set returned is valid until the next call.
   */
  takeWritten(): ReadonlySet<number> | 'all' {
    this.settle();
    const w = this.written;
    const all = this.allWritten;
    this.allWritten = false;
    this.written = this.handedOut;
    this.written.clear();
    this.handedOut = w;
    return all ? 'all' : w;
  }

  /** Writes a register (64-bit). */
  reg_write(reg: number, value: bigint | number): void {
    this.settle();
    this.written.add(reg);
    if (reg === C.X86.EFLAGS) this.lazyEflags = undefined;
    const v = typeof value === 'bigint' ? BigInt.asUintN(64, value) : BigInt.asUintN(64, BigInt(value));
    if (this.running === 0 && CACHED64[reg] === 1) {
      // Unicorn reads back RFLAGS with its always-one bit 1 set, and every other bit as written.
      this.cacheVal[reg] = reg === C.X86.EFLAGS ? v | 2n : v;
      this.cacheEpoch[reg] = this.epoch;
      this.markDirty(reg);
      return;
    }
    // Writing a register by another name (eax) may change a cached one; these do not.
    const keeps = WRITE_KEEPS_CACHE.has(reg);
    if (!keeps) this.flush();
    this.u64[0] = v;
    check(F.uc_reg_write(this.handle, reg, this.u64) as number, 'uc_reg_write');
    if (!keeps) this.epoch++;
  }

  /** Reads a register wider than 64 bits (XMM: 16 bytes, ST: 10 bytes) into a buffer. */
  reg_read_bytes(reg: number, size: number): Uint8Array {
    this.settle();
    const x = reg - C.X86.XMM0;
    if (this.running === 0 && size === 16 && x >= 0 && x < 16) {
      const at = this.cacheXmm.subarray(16 * x, 16 * x + 16);
      if (this.cacheEpoch[reg] !== this.epoch) {
        const buf = new Uint8Array(64);
        check(F.uc_reg_read(this.handle, reg, buf) as number, 'uc_reg_read');
        at.set(buf.subarray(0, 16));
        this.cacheEpoch[reg] = this.epoch;
      }
      return at.slice();
    }
    this.flush();
    const buf = new Uint8Array(Math.max(size, 64));
    check(F.uc_reg_read(this.handle, reg, buf) as number, 'uc_reg_read');
    return buf.subarray(0, size);
  }

  /** Writes a register wider than 64 bits from a buffer. */
  reg_write_bytes(reg: number, bytes: Uint8Array): void {
    this.settle();
    this.written.add(reg);
    const x = reg - C.X86.XMM0;
    if (this.running === 0 && bytes.length === 16 && x >= 0 && x < 16) {
      this.cacheXmm.set(bytes, 16 * x);
      this.cacheEpoch[reg] = this.epoch;
      this.markDirty(reg);
      return;
    }
    this.flush();
    const buf = new Uint8Array(Math.max(bytes.length, 64));
    buf.set(bytes);
    check(F.uc_reg_write(this.handle, reg, buf) as number, 'uc_reg_write');
    this.epoch++;
  }

  private markDirty(reg: number): void {
    if (this.isDirty[reg] === 0) {
      this.isDirty[reg] = 1;
      this.dirty.push(reg);
    }
  }

  /** Hands the cached register writes to Unicorn. */
  private flush(): void {
    this.resolveEflags();
    const d = this.dirty;
    for (let i = 0; i < d.length; i++) {
      const reg = d[i];
      this.isDirty[reg] = 0;
      const x = reg - C.X86.XMM0;
      if (x >= 0 && x < 16) {
        const buf = new Uint8Array(64);
        buf.set(this.cacheXmm.subarray(16 * x, 16 * x + 16));
        check(F.uc_reg_write(this.handle, reg, buf) as number, 'uc_reg_write');
      } else {
        this.u64[0] = this.cacheVal[reg];
        check(F.uc_reg_write(this.handle, reg, this.u64) as number, 'uc_reg_write');
      }
    }
    d.length = 0;
  }

  /** Forgets the cached values (Unicorn's registers changed underneath), dropping unflushed writes. */
  private dropCache(): void {
    this.lazyEflags = undefined;
    for (const reg of this.dirty) this.isDirty[reg] = 0;
    this.dirty.length = 0;
    this.epoch++;
  }

  /** Copies guest memory out through Unicorn (slow path; guest memory is normally viewed directly). */
  mem_read(address: number, size: number): Uint8Array {
    const buf = new Uint8Array(size);
    check(F.uc_mem_read(this.handle, address, buf, size) as number, 'uc_mem_read');
    return buf;
  }

  /** Copies bytes into guest memory through Unicorn. */
  mem_write(address: number, bytes: Uint8Array): void {
    check(F.uc_mem_write(this.handle, address, bytes, bytes.length) as number, 'uc_mem_write');
  }

  /** Maps host memory at host address ptr as guest memory [address, address+size) with perms (UC_PROT_*). */
  mem_map_ptr(address: number, size: number, perms: number, ptr: number): void {
    check(F.uc_mem_map_ptr(this.handle, address, size, perms, ptr) as number,
      `uc_mem_map_ptr(0x${address.toString(16)}, 0x${size.toString(16)})`);
  }

  /** Unmaps guest memory. */
  mem_unmap(address: number, size: number): void {
    check(F.uc_mem_unmap(this.handle, address, size) as number,
      `uc_mem_unmap(0x${address.toString(16)}, 0x${size.toString(16)})`);
  }

  /** Changes the permissions of guest memory. */
  mem_protect(address: number, size: number, perms: number): void {
    check(F.uc_mem_protect(this.handle, address, size, perms) as number,
      `uc_mem_protect(0x${address.toString(16)}, 0x${size.toString(16)})`);
  }

  /** Runs from begin until `until` is reached, the timeout (µs) expires, count instructions ran, or emu_stop. Returns the uc_err code. */
  emu_start(begin: number, until = 0, timeout = 0, count = 0): number {
    this.settle();
    this.allWritten = true;
    this.flush();
    this.dropCache();
    this.running++;
    try {
      return F.uc_emu_start(this.handle, begin, until, timeout, count) as number;
    } finally {
      this.running--;
      this.dropCache();
    }
  }

  /** Stops emulation (from inside a hook, or from a timer). */
  emu_stop(): void {
    F.uc_emu_stop(this.handle);
  }

  /**
   * Installs a hook. `type` is a UC_HOOK_* value; for UC_HOOK_INSN, `insn` names the instruction
   * (UC_X86_INS_SYSCALL, UC_X86_INS_CPUID). The callback receives the arguments of Unicorn's C
   * callback as unicorn.js passes them (engine handle first, user_data last); it is registered as
   * it is, without a wrapper, because memory hooks are hot.
   */
  hook_add(type: number, callback: (...args: never[]) => unknown, begin = 1, end = 0, insn?: number): HookHandle {
    const proto = protoFor(type, insn);
    const registered = koffi.register(callback, koffi.pointer(proto));
    const out = new BigUint64Array(1);
    const rc = insn === undefined
      ? F.uc_hook_add(this.handle, out, type, registered, null, begin, end)
      : F.uc_hook_add(this.handle, out, type, registered, null, begin, end, 'int', insn);
    if (rc !== 0) {
      koffi.unregister(registered);
      check(rc as number, 'uc_hook_add');
    }
    const h: HookHandle = { id: out[0], callback: registered };
    this.hooks.add(h);
    return h;
  }

  /** Removes a hook and releases its callback. */
  hook_del(h: HookHandle): void {
    if (!this.hooks.delete(h)) return;
    check(F.uc_hook_del(this.handle, h.id) as number, 'uc_hook_del');
    koffi.unregister(h.callback as never);
  }

  /** Selects the CPU model (before the first emu_start). */
  ctl_set_cpu_model(model: number): void {
    check(F.uc_ctl(this.handle, ucCtl(C.UC_CTL_CPU_MODEL, 1, C.UC_CTL_IO_WRITE), 'int', model) as number, 'uc_ctl(cpu model)');
  }

  /** Drops translated blocks covering [begin, end) (after guest code is rewritten or unmapped). */
  ctl_remove_cache(begin: number, end: number): void {
    check(F.uc_ctl(this.handle, ucCtl(C.UC_CTL_TB_REMOVE_CACHE, 2, C.UC_CTL_IO_WRITE), 'uint64_t', begin, 'uint64_t', end) as number,
      'uc_ctl(remove cache)');
  }

  /** Drops every translated block. */
  ctl_flush_tb(): void {
    check(F.uc_ctl(this.handle, ucCtl(C.UC_CTL_TB_FLUSH, 0, C.UC_CTL_IO_WRITE)) as number, 'uc_ctl(tb flush)');
  }

  /** Allocates a context and saves the CPU state into it. */
  context_save(into?: CpuContext): CpuContext {
    this.settle();
    let ctx = into;
    if (!ctx) {
      const out: Ptr[] = [null];
      check(F.uc_context_alloc(this.handle, out) as number, 'uc_context_alloc');
      ctx = { ptr: out[0] };
    }
    this.flush();
    check(F.uc_context_save(this.handle, ctx.ptr) as number, 'uc_context_save');
    return ctx;
  }

  /** Restores a saved CPU state. */
  context_restore(ctx: CpuContext): void {
    this.settle();
    this.allWritten = true;
    this.dropCache();
    check(F.uc_context_restore(this.handle, ctx.ptr) as number, 'uc_context_restore');
  }

  /** Reads a 64-bit register from a saved context (another thread's registers). */
  context_reg_read(ctx: CpuContext, reg: number): bigint {
    check(F.uc_context_reg_read(ctx.ptr, reg, this.u64) as number, 'uc_context_reg_read');
    return this.u64[0];
  }

  /** Frees a context. */
  context_free(ctx: CpuContext): void {
    F.uc_context_free(ctx.ptr);
  }

  /** Closes the engine and releases every hook. */
  close(): void {
    for (const h of [...this.hooks]) this.hook_del(h);
    F.uc_close(this.handle);
    this.handle = null;
  }
}

function protoFor(type: number, insn?: number): ReturnType<typeof koffi.proto> {
  if (type === C.UC_HOOK_INSN) return insn === C.UC_X86_INS_CPUID ? insnRetHookProto : insnHookProto;
  if (type === C.UC_HOOK_CODE || type === C.UC_HOOK_BLOCK) return codeHookProto;
  if (type === C.UC_HOOK_INTR) return intrHookProto;
  if (type === C.UC_HOOK_INSN_INVALID) return invalidInsnProto;
  if ((type & C.UC_HOOK_MEM_INVALID) !== 0) return memEventProto;
  return memHookProto;
}
