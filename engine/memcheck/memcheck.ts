/**
 * memcheck plugged into the engine: shadow memory kept in step with the address space, every
 * guest load and store checked (a Unicorn memory hook for now; the translator will emit the same
 * check inline), the malloc and str/mem families redirected, syscall arguments checked from
 * their declarations, client requests answered, and the leak search at exit. The engine core
 * knows none of this; --tool=none runs without it.
 */
import { UC_HOOK_MEM_READ, UC_HOOK_MEM_WRITE, UC_MEM_FETCH_PROT, UC_MEM_FETCH_UNMAPPED, UC_MEM_WRITE, UC_MEM_WRITE_PROT, UC_MEM_WRITE_UNMAPPED, X86 } from '../cpu/x86-const';
import type { ErrorFrame, ErrorRecord } from '../errors/error-record';
import type { ErrorManager } from '../errors/error-manager';
import { describeAddress, AddressInfo } from '../errors/address-description';
import * as R from '../errors/records';
import type { LeakDeltaMode, LossRecordInput } from '../errors/leak-report';
import type { GuestProcess } from '../process/guest-process';
import { Redirector, RedirectCall } from '../process/redirect';
import { describeGuestAddress } from '../process/address-info';
import type { SyscallObserver } from '../kernel/syscall-observer';
import { ShadowMemory } from './shadow-memory';
import { Heap, isMismatchedFree, DeallocKind, AllocKind } from './heap';
import { Mempools } from './mempools';
import { findHeapBlock, heapAddressInfo } from './heap-describe';
import { ExeContext, ExeContexts } from './exe-contexts';
import { mallocReplacements, AllocFamily, MallocChecker } from './replace-malloc';
import { strMemReplacements, StrMemChecker } from './replace-strmem';
import { searchLeaks, lossRecords, LeakHeuristic, LossRecord, RootRange, vtableDetector } from './leak-check';
import { LeakHistory } from './leak-history';
import { memcheckClientRequest } from './client-requests';
import { memcheckJitTool, TranslatedCheckOptions } from './translated-checks';
import { describeOtag, OriginMemory, OriginTags } from './origin-memory';

/** Name shown as the object of replaced functions' frames (matches suppressions written for Valgrind's preload library). */
export const PRELOAD_OBJ = 'unigrind:vgpreload_memcheck-amd64-linux.so';

export interface MemcheckOptions {
  numCallers: number;
  redzoneSize: number;
  freelistVol: number;
  freelistBigBlocks: number;
  mallocFill?: number;
  freeFill?: number;
  partialLoadsOk: boolean;
  showMismatchedFrees: boolean;
  heuristics: ReadonlySet<LeakHeuristic>;
  leakResolution: 'low' | 'med' | 'high';
}

/** A leak search asked for by the guest (VALGRIND_DO_LEAK_CHECK and its variants). */
export interface LeakCheckRequest {
  mode: 'summary' | 'full';
  delta: LeakDeltaMode;
  /** Memcheck's warnings about request arguments it does not know, to show before the search. */
  warnings: string[];
}

/** Where the heap arena lives: a range of its own, far from where Linux puts mmaps and brk. */
const ARENA_BASE = 0x100000000000;
const ARENA_SIZE = 0x10000000000;
/** amd64's red zone: leaf functions may use 128 bytes below rsp (Valgrind's VG_STACK_REDZONE_SZB). */
const STACK_REDZONE = 128;
const FAMILY_DEALLOC: Record<AllocFamily, DeallocKind> = { malloc: 'free', new: 'delete', 'new[]': 'delete[]' };

export class Memcheck implements SyscallObserver, MallocChecker, StrMemChecker {
  readonly shadow = new ShadowMemory();
  readonly heap: Heap<ExeContext>;
  readonly pools: Mempools<ExeContext>;
  readonly contexts: ExeContexts;
  private readonly arena = new Set<number>();
  private arenaNext = ARENA_BASE;
  /** Address ranges whose loads and stores are checked (a memory hook each), sorted, disjoint. */
  private readonly watched: Array<[number, number]> = [];
  private growing = false;
  private redirector: Redirector | undefined;
  /** Replaced-function name per entry address, for the top frame of reports. */
  private readonly entryNames = new Map<number, string>();
  /** --track-origins=yes (on the translator): where undefined bytes were created. */
  origins: { readonly mem: OriginMemory; readonly tags: OriginTags<ExeContext> } | undefined;

  constructor(readonly proc: GuestProcess, readonly errors: ErrorManager, readonly opts: MemcheckOptions) {
    this.contexts = new ExeContexts(proc, opts.numCallers);
    const mem = proc.mem;
    this.heap = new Heap<ExeContext>(this.shadow, {
      grow: (min) => {
        const size = Math.ceil(Math.max(min, 1 << 20) / 4096) * 4096;
        // The arena grows upwards inside its own reserved range, which one memory hook watches.
        const at = this.arenaNext;
        if (at + size > ARENA_BASE + ARENA_SIZE || !mem.isFree(at, size)) return undefined;
        this.arenaNext += size;
        this.growing = true;
        try {
          mem.map(at, size, 3, '');
        } finally {
          this.growing = false;
        }
        this.arena.add(at);
        this.shadow.makeNoAccess(at, size);
        return { start: at, size };
      },
      fill: (addr, len, byte) => mem.write(addr, new Uint8Array(len).fill(byte)),
    }, {
      redzoneSize: opts.redzoneSize, freelistVol: opts.freelistVol, freelistBigBlocks: opts.freelistBigBlocks,
      mallocFill: opts.mallocFill, freeFill: opts.freeFill,
    });
    this.pools = new Mempools<ExeContext>(this.heap, this.shadow);
  }

  /** Hooks memcheck into the process; call before the guest runs. With jit, guest code runs on the translator, instrumented. */
  attach(jit = false, jitOpts: TranslatedCheckOptions = { undefValueErrors: true, detail: 'auto', trackOrigins: false }): void {
    if (jit && jitOpts.trackOrigins) this.origins = { mem: new OriginMemory(), tags: new OriginTags<ExeContext>() };
    const { proc, shadow } = this;
    for (const r of proc.mem.list()) shadow.makeDefined(r.start, r.end - r.start);
    proc.mem.listen({
      mapped: (r) => {
        if (!this.growing) shadow.makeDefined(r.start, r.end - r.start);
      },
      unmapped: (start, end) => shadow.makeNoAccess(start, end - start),
    });
    proc.observer = this;
    const uc = proc.uc;
    // Only memory that can be other than addressable-and-defined is watched: the heap arena from
    // the start, and any other range when something restricts it (client requests, mempools,
    // MALLOCLIKE blocks). Everything else (stacks, globals, libraries) costs no callback; what is
    // unmapped is caught by the fault path. On the translator, the check is inline instead.
    if (jit) {
      // Unicorn then runs only the instructions the lifter does not cover (x87 stores such as
      // fnstcw, …), one at a time: watching all of memory costs nothing else, and their stores
      // must make memory defined.
      this.watch(0, 2 ** 47);
    } else {
      this.watch(ARENA_BASE, ARENA_BASE + ARENA_SIZE);
      shadow.onRestrict = (addr, len) => {
        if (addr >= ARENA_BASE && addr + len <= ARENA_BASE + ARENA_SIZE) return;
        if (!proc.mem.isMapped(addr, Math.max(len, 1))) return;
        this.watch(addr - (addr % 4096), addr + len + ((4096 - ((addr + len) % 4096)) % 4096));
      };
    }
    proc.onInvalidAccess = (type, addr, size) => {
      if (type === UC_MEM_FETCH_UNMAPPED || type === UC_MEM_FETCH_PROT) {
        this.report(R.invalidJump(this.common([{ ip: addr }, ...this.here().slice(1)], addr)));
      } else {
        this.report(R.invalidAccess(type === UC_MEM_WRITE_UNMAPPED || type === UC_MEM_WRITE_PROT, size, this.common(this.here(), addr)));
      }
    };
    this.redirector = new Redirector(proc, [...mallocReplacements(this), ...strMemReplacements(this)]);
    proc.clientRequests.setTool((code, args) => memcheckClientRequest(this, code, args));
    proc.clientRequests.countErrors = () => this.errors.counts().errors;
    if (jit) {
      proc.enableJit(memcheckJitTool(this, jitOpts, () => proc.jit));
    }
  }

  // ------------------------------------------------------------ guest loads and stores

  // Starts checking accesses to [start, end) (a memory hook; installed when the CPU is stopped).
  private watch(start: number, end: number): void {
    if (this.watched.some(([s, e]) => s <= start && end <= e)) return;
    this.watched.push([start, end]);
    this.proc.whenStopped(() => {
      this.proc.uc.hook_add(UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE,
        (_h: unknown, type: number, address: number | bigint, size: number) => this.onAccess(type, Number(address), size), start, end - 1);
    });
  }

  private onAccess(type: number, addr: number, size: number): void {
    const shadow = this.shadow;
    if (shadow.checkAccess(addr, size)) {
      // Memory below the stack pointer (past the 128-byte red zone) is dead, as memcheck has it.
      const t = this.proc.current;
      if (addr < t.stackHigh && addr >= this.stackLow(t) && addr + size <= this.proc.uc.reg_read_num(X86.RSP) - STACK_REDZONE) {
        this.reportBelowSp(type === UC_MEM_WRITE, addr, size);
      }
      if (type === UC_MEM_WRITE) shadow.makeDefined(addr, size);
      return;
    }
    const write = type === UC_MEM_WRITE;
    this.invalidGuestAccess(write, addr, size);
    if (write) shadow.makeDefinedIfAddressable(addr, size);
  }

  /** A guest load or store of size bytes at addr touches unaddressable memory: report it (the state is at the instruction). */
  invalidGuestAccess(write: boolean, addr: number, size: number): void {
    // --partial-loads-ok=yes: an aligned word load with some addressable bytes is not an error.
    if (!write && this.opts.partialLoadsOk && (size === 4 || size === 8 || size === 16 || size === 32) && addr % size === 0
      && this.shadow.firstUnaddressable(addr, size) !== addr) {
      return;
    }
    this.report(R.invalidAccess(write, size, this.common(this.here(), addr)));
  }

  private reportBelowSp(write: boolean, addr: number, size: number): void {
    const sp = this.proc.uc.reg_read_num(X86.RSP);
    const info: AddressInfo = { tag: 'stack', addr, thread: this.proc.current.number, belowStackPointer: { bytes: sp - addr, guardPage: false } };
    const c = this.common(this.here());
    c.address = addr;
    c.aux = describeAddress(info);
    this.report(R.invalidAccess(write, size, c));
  }

  // The low end of a thread's stack mapping (found once: cloned threads only tell their top).
  private stackLow(t: GuestProcess['threads'][number]): number {
    if (!t.stackLow && t.stackHigh) t.stackLow = this.proc.mem.find(t.stackHigh - 1)?.start ?? t.stackHigh;
    return t.stackLow;
  }

  // ------------------------------------------------------------ syscalls (SyscallObserver)

  /** The kernel will read [addr, addr+len) as argument `what` of `sys`. */
  preRead(_sys: string, what: string, addr: number, len: number): void {
    if (len <= 0) return;
    const bad = this.shadow.firstUnaddressable(addr, len);
    if (bad >= 0) {
      this.report(R.syscallParamMemory(what, true, this.common(this.here(), bad)));
      return;
    }
    const undef = this.shadow.firstUndefined(addr, len);
    if (undef >= 0) this.report(R.syscallParamMemory(what, false, this.withOrigin(this.common(this.here(), undef), this.origins?.mem.get(undef, 1))));
  }

  /** The kernel wrote [addr, addr+len). */
  postWrite(addr: number, len: number): void {
    if (len > 0) this.shadow.makeDefinedIfAddressable(addr, len);
  }

  // ------------------------------------------------------------ the malloc family (MallocChecker)

  alloc(call: RedirectCall, size: number, align: number, family: AllocFamily, zeroed: boolean): number {
    const kind: AllocKind = align > 16 && family === 'malloc' ? 'memalign' : family;
    const ctx = this.callContext(call);
    const b = this.heap.alloc(size, align, kind, ctx, zeroed);
    if (b && !zeroed && this.origins) this.origins.mem.set(b.start, size, this.origins.tags.tag('heap', ctx));
    return b ? b.start : 0;
  }

  free(call: RedirectCall, addr: number, family: AllocFamily): void {
    if (addr === 0) return;
    const ctx = this.callContext(call);
    const live = this.heap.findLive(addr);
    if (live && this.opts.showMismatchedFrees && isMismatchedFree(live.kind, FAMILY_DEALLOC[family])) {
      this.report(R.mismatchedFree(this.common(this.framesOf(ctx), addr)));
    }
    const r = this.heap.free(addr, ctx);
    if (!r.ok) this.report(R.invalidFree(this.common(this.framesOf(ctx), addr)));
  }

  realloc(call: RedirectCall, addr: number, size: number): number {
    if (addr === 0) return this.alloc(call, size, 16, 'malloc', false);
    const old = this.heap.findLive(addr);
    if (!old) {
      this.report(R.invalidFree(this.common(this.framesOf(this.callContext(call)), addr)));
      return 0;
    }
    if (size === 0) {
      // glibc frees and returns NULL; Valgrind 3.19 does the same for realloc(p, 0).
      this.heap.free(addr, this.callContext(call));
      return 0;
    }
    const ctx = this.callContext(call);
    const b = this.heap.alloc(size, old.align || 16, old.kind, ctx, false);
    if (!b) return 0;
    const n = Math.min(old.size, size);
    this.proc.mem.write(b.start, this.proc.mem.read(addr, n));
    this.shadow.copy(addr, b.start, n);
    if (this.origins) {
      this.origins.mem.set(b.start, size, this.origins.tags.tag('heap', ctx));
      this.origins.mem.copy(addr, b.start, n);
    }
    this.heap.free(addr, ctx);
    return b.start;
  }

  usableSize(addr: number): number {
    return this.heap.usableSize(addr);
  }

  fishy(call: RedirectCall, fn: string, arg: string, value: bigint): boolean {
    if (value < 2n ** 63n) return false;
    this.report(R.fishyValue(fn, arg, Number(BigInt.asIntN(64, value)), this.common(this.framesOf(this.callContext(call)))));
    return true;
  }

  storePointer(call: RedirectCall, addr: number, value: number): boolean {
    if (!this.write(call, addr, 8)) return false;
    this.proc.mem.writeU64(addr, value);
    this.shadow.makeDefined(addr, 8);
    return true;
  }

  // ------------------------------------------------------------ str/mem functions (StrMemChecker)

  read(call: RedirectCall, addr: number, len: number): boolean {
    return this.checkRange(call, addr, len, false);
  }

  write(call: RedirectCall, addr: number, len: number): boolean {
    return this.checkRange(call, addr, len, true);
  }

  overlap(call: RedirectCall, dst: number, src: number, len: number | undefined): void {
    this.report(R.overlap(call.name, dst, src, len, this.common(this.framesOf(this.callContext(call)))));
  }

  copyDefinedness(src: number, dst: number, len: number): void {
    this.shadow.copy(src, dst, len);
    this.origins?.mem.copy(src, dst, len);
    // Bytes that were unaddressable at the source arrive defined (the copy itself was reported).
    this.shadow.makeDefinedIfNoAccess(dst, len);
  }

  defined(addr: number, len: number): void {
    this.shadow.makeDefined(addr, len);
  }

  branchesOn(call: RedirectCall, addr: number, len: number): void {
    if (!this.proc.jit || len <= 0) return;
    const end = addr + len;
    for (let from = addr; from < end;) {
      const bad = this.shadow.firstUndefined(from, end - from);
      if (bad < 0) break;
      this.report(R.uninitCondition(this.withOrigin(this.common(this.framesOf(this.callContext(call))), this.origins?.mem.get(bad, 1))));
      from = bad + 1;
    }
  }

  // Reports the first unaddressable byte of a replacement's access (as its byte loop would), once.
  private checkRange(call: RedirectCall, addr: number, len: number, write: boolean): boolean {
    if (len <= 0) return true;
    const bad = this.shadow.firstUnaddressable(addr, Math.min(len, 1 << 30));
    if (bad >= 0) this.report(R.invalidAccess(write, 1, this.common(this.framesOf(this.callContext(call)), bad)));
    return this.proc.mem.isMapped(addr, Math.min(len, 1 << 30)) || bad < 0;
  }

  // ------------------------------------------------------------ contexts, descriptions, reports

  /** The stack of a replaced function's caller, with the replacement as the top frame. */
  callContext(call: RedirectCall): ExeContext {
    this.entryNames.set(call.entry, call.name);
    return this.contexts.intern(this.proc.debug.pcsAtEntry(call.reg, call.entry, this.opts.numCallers));
  }

  /** Symbolized frames of a context, the replaced function named as Valgrind names it. */
  framesOf(c: ExeContext): ErrorFrame[] {
    const frames = this.contexts.frames(c);
    const name = this.entryNames.get(c.pcs[0]);
    if (name === undefined || frames.length === 0) return frames;
    // Drop the frames the entry address symbolized to (possibly inlined), keep the callers.
    let k = 0;
    while (k < frames.length && frames[k].ip === c.pcs[0]) k++;
    return [{ ip: c.pcs[0], fn: name, obj: PRELOAD_OBJ }, ...frames.slice(Math.max(k, 1))];
  }

  /** The current thread's stack. */
  here(): ErrorFrame[] {
    return this.proc.debug.stackOf(this.proc.uc, this.opts.numCallers);
  }

  /** Fields every record shares; with addr, the address description. */
  common(stack: ErrorFrame[], addr?: number, describe = true): R.Common {
    const c: R.Common = { stack, tid: this.proc.current.number };
    if (addr !== undefined) {
      c.address = addr;
      if (describe) c.aux = describeAddress(this.addressInfo(addr));
    }
    return c;
  }

  /** What memcheck knows of an address: its heap block, else what the core knows (stack, data symbol, section, mapping). */
  addressInfo(addr: number): AddressInfo {
    const fact = findHeapBlock(addr, this.heap, this.pools);
    if (fact) return heapAddressInfo(addr, fact, (c) => this.framesOf(c));
    return describeGuestAddress(this.proc, addr, this.opts.numCallers);
  }

  private threadSp(t: GuestProcess['threads'][number]): number {
    return t.ctx ? Number(this.proc.uc.context_reg_read(t.ctx, X86.RSP)) : 0;
  }

  /** Adds the origin line of an undefined value with tag otag (--track-origins=yes), when known. */
  withOrigin(c: R.Common, otag: bigint | number | undefined): R.Common {
    if (!this.origins || otag === undefined) return c;
    const aux = describeOtag(this.origins.tags, Number(otag), (ctx) => this.framesOf(ctx));
    if (aux) c.aux = [...(c.aux ?? []), aux];
    return c;
  }

  /** Passes a record to the error manager. */
  report(rec: ErrorRecord): void {
    this.errors.report(rec);
  }

  // ------------------------------------------------------------ leak search

  /** Who runs a leak check asked for by the guest (VALGRIND_DO_LEAK_CHECK); the session sets it. */
  onLeakCheckRequest: ((request: LeakCheckRequest) => void) | undefined;

  /** Loss records and summary of the previous leak search (delta searches, VALGRIND_COUNT_LEAKS). */
  readonly leakHistory = new LeakHistory<ExeContext>((c) => this.leakKey(c));

  /** VALGRIND_DO_LEAK_CHECK and friends. */
  requestLeakCheck(request: LeakCheckRequest): void {
    this.onLeakCheckRequest?.(request);
  }

  /** A leak search whose records are to be reported: merged with the previous search's (leakHistory). */
  reportedLeakSearch(): { records: LossRecordInput[]; heuristics: { name: string; bytes: number; blocks: number }[] } {
    const r = this.leakSearch();
    return { records: this.leakHistory.merge(r.records), heuristics: r.heuristics };
  }

  // Loss records merge contexts equal at --leak-resolution (2, 4 or all frames).
  private leakKey(c: ExeContext): string | number {
    const depth = this.opts.leakResolution === 'low' ? 2 : this.opts.leakResolution === 'med' ? 4 : Infinity;
    return depth === Infinity ? c.id : c.pcs.slice(0, depth).join(',');
  }

  /** Runs the leak search; returns the loss records for the report. */
  leakSearch(): { records: LossRecord<ExeContext>[]; heuristics: { name: string; bytes: number; blocks: number }[] } {
    const { proc, heap, shadow } = this;
    const roots: RootRange[] = [];
    const isArena = (start: number): boolean => heap.arenaSegments().some((s) => start >= s.start && start < s.start + s.size);
    const registers: number[] = [];
    const stackRegions = new Set<number>();
    for (const t of proc.threads) {
      if (t.state === 'dead') continue;
      const regs = t === proc.current
        ? [X86.RAX, X86.RBX, X86.RCX, X86.RDX, X86.RSI, X86.RDI, X86.RBP, X86.RSP, X86.R8, X86.R9, X86.R10, X86.R11, X86.R12, X86.R13, X86.R14, X86.R15].map((r) => Number(proc.uc.reg_read(r) & 0xffffffffffffn))
        : t.ctx ? [X86.RAX, X86.RBX, X86.RCX, X86.RDX, X86.RSI, X86.RDI, X86.RBP, X86.RSP, X86.R12, X86.R13, X86.R14, X86.R15].map((r) => Number(proc.uc.context_reg_read(t.ctx!, r) & 0xffffffffffffn)) : [];
      registers.push(...regs);
      // A stack is scanned from its stack pointer up: what lies below is dead.
      const sp = t === proc.current ? proc.uc.reg_read_num(X86.RSP) : this.threadSp(t);
      const r = proc.mem.find(sp);
      if (r) {
        stackRegions.add(r.start);
        roots.push({ start: Math.max(r.start, sp - 128) - (Math.max(r.start, sp - 128) % 8), end: r.end });
      }
    }
    for (const r of proc.mem.list()) {
      if ((r.perms & 3) !== 3 || isArena(r.start) || stackRegions.has(r.start)) continue;
      roots.push({ start: r.start, end: r.end });
    }
    const blocks = [...heap.liveBlocks()].map((b) => ({ start: b.start, size: b.size, ctx: b.allocCtx, custom: b.custom, serial: b.serial }));
    const poolChunks = [...this.pools.chunks()].map((b) => ({ start: b.start, size: b.size, ctx: b.allocCtx, custom: true, serial: b.serial }));
    const mem = proc.mem;
    const isVtable = vtableDetector((a) => {
      const r = mem.find(a);
      return r && { start: r.start, end: r.end, fileMapped: r.name.startsWith('/'), readable: (r.perms & 1) !== 0, executable: (r.perms & 4) !== 0 };
    }, (a) => {
      const v = mem.view(a, 8);
      return v ? Number(new DataView(v.buffer, v.byteOffset, 8).getBigUint64(0, true)) : undefined;
    });
    const memory = {
      view: (s: number, l: number) => mem.view(s, l),
      // One view per mapping, so the scan asks once per region instead of once per block.
      mappingAt: (a: number) => {
        const r = mem.find(a);
        return r && { start: r.start, bytes: r.chunk.bytes.subarray(r.chunkOffset, r.chunkOffset + (r.end - r.start)) };
      },
    };
    const result = searchLeaks({ blocks, poolChunks, roots, registers, memory, shadow, heuristics: this.opts.heuristics, isVtable });
    const records = lossRecords(result, { key: (c) => this.leakKey(c), stack: (c) => this.framesOf(c) });
    return { records, heuristics: result.heuristicTotals };
  }
}
