/**
 * The two machines of the differential tests, run from the same initial state on the same host
 * memory: Unicorn (the oracle) and the lifter + IR interpreter. A code page at CODE and two data
 * pages at DATA are native memory mapped into Unicorn with mem_map_ptr and seen by the
 * interpreter through views of the same bytes.
 */
import { CpuContext, Unicorn } from '../../../engine/cpu/unicorn';
import * as C from '../../../engine/cpu/x86-const';
import { X86 } from '../../../engine/cpu/x86-const';
import { HostChunk, hostMmap } from '../../../engine/host/libc';
import { GuestState } from '../../../engine/jit/guest-state';
import { InterpEnv, interpret } from '../../../engine/jit/interp';
import { IRSB } from '../../../engine/jit/ir';
import { checkIRSB } from '../../../engine/jit/ir-check';
import { compileBlock } from '../../../engine/jit/codegen';
import { optimize } from '../../../engine/jit/opt';
import { ppIRSB } from '../../../engine/jit/ir-print';
import { liftBlock } from '../../../engine/jit/lift/lift';
import { GuestMemoryFault, ViewMemory } from '../../../engine/jit/memory';
import { stateFromUnicorn, stateToUnicorn } from '../../../engine/jit/unicorn-sync';

export const CODE = 0x10000;
export const CODE_SIZE = 0x1000;
export const DATA = 0x20000;
export const DATA_SIZE = 0x2000;

/** How a run ended besides reaching its stop: an exception vector, or a memory fault. */
export type Fault = undefined | 'DE' | 'UD' | 'GP' | 'BP' | 'mem' | 'other';

export interface Outcome {
  readonly state: GuestState;
  readonly data: Uint8Array;
  readonly fault: Fault;
  /** Guest instructions executed (interpreter only). */
  readonly insns?: number;
}

/** Where a run stops: at an address (straight-line code), or after a number of instructions. */
export interface Stop {
  readonly until?: number;
  readonly count?: number;
}

function chunk(size: number): HostChunk {
  const c = hostMmap(size);
  if (typeof c === 'number') throw new Error(`host mmap failed: ${c}`);
  return c;
}

const INTR_FAULT: Record<number, Fault> = { 0: 'DE', 3: 'BP', 6: 'UD', 13: 'GP' };

/** The pages both machines share, and the Unicorn engine mapping them. */
export class Machines {
  readonly uc = new Unicorn();
  readonly code = chunk(CODE_SIZE);
  readonly data = chunk(DATA_SIZE);
  private fault: Fault;
  /** The CPU as set up, restored before each run: QEMU remembers the last exception and would turn the next #DE into a double fault. */
  private readonly clean: CpuContext;
  private readonly mem: ViewMemory;
  /** Blocks lifted per run (for the statistics). */
  blocksLifted = 0;

  constructor() {
    const uc = this.uc;
    uc.mem_map_ptr(CODE, CODE_SIZE, C.UC_PROT_ALL, this.code.addr);
    uc.mem_map_ptr(DATA, DATA_SIZE, C.UC_PROT_READ | C.UC_PROT_WRITE, this.data.addr);
    // As the engine does: SSE needs CR4.OSFXSR (and OSXMMEXCPT), which QEMU starts clear.
    uc.reg_write(X86.CR4, uc.reg_read(X86.CR4) | (1n << 9n) | (1n << 10n));
    uc.hook_add(C.UC_HOOK_INTR, (_h: unknown, intno: number) => {
      // Only the first: delivering it without an IDT raises a double fault (8) next.
      this.fault ??= INTR_FAULT[intno] ?? 'other';
      if (process.env.JIT_DEBUG) console.log(`intr ${intno}`);
      uc.emu_stop();
    });
    uc.hook_add(C.UC_HOOK_MEM_INVALID, () => {
      this.fault = 'mem';
      return false;
    });
    // Any memory hook makes QEMU keep RIP exact at memory accesses (see guest-process.ts).
    // No memory hooks: with a UC_HOOK_MEM_WRITE installed, Unicorn 2.0.1 computes CF of
    // `shl/shr/sar mem, cl` from a temporary its hook code clobbers. Without them, the CPU state
    // after a memory fault is not precise, so the comparison stops at the fault (compare()).
    this.clean = uc.context_save();
    const codeBytes = this.code.bytes;
    const dataBytes = this.data.bytes;
    const view = (addr: number, len: number): Uint8Array | undefined => {
      if (addr >= DATA && addr + len <= DATA + DATA_SIZE) return dataBytes.subarray(addr - DATA, addr - DATA + len);
      // The code page is writable, as it is for Unicorn (stack or string pointers may reach it).
      if (addr >= CODE && addr + len <= CODE + CODE_SIZE) return codeBytes.subarray(addr - CODE, addr - CODE + len);
      return undefined;
    };
    this.mem = new ViewMemory({ readView: view, writeView: view });
  }

  /** Places code at CODE (the rest of the page is int3) and drops Unicorn's stale translations. */
  loadCode(code: Uint8Array): void {
    this.code.bytes.fill(0xcc);
    this.code.bytes.set(code);
    this.uc.ctl_remove_cache(CODE, CODE + CODE_SIZE);
  }

  /** Runs the loaded code on Unicorn from init (RIP = CODE) with data as the data pages' contents. */
  runUnicorn(init: GuestState, data: Uint8Array, stop: Stop): Outcome {
    this.data.bytes.set(data);
    this.fault = undefined;
    this.uc.context_restore(this.clean);
    stateToUnicorn(init, this.uc);
    const rc = this.uc.emu_start(CODE, stop.until ?? 0xdead0000, 0, stop.count ?? 0);
    if (rc !== 0 && this.fault === undefined) this.fault = rc === C.UC_ERR_INSN_INVALID ? 'UD' : 'other';
    if (process.env.JIT_DEBUG) console.log(`unicorn rc=${rc} fault=${this.fault}`);
    const state = new GuestState();
    stateFromUnicorn(this.uc, state);
    return { state, data: this.data.bytes.slice(), fault: this.fault };
  }

  /**
   * Runs the loaded code on the lifter + interpreter (or optimiser + code generator). maxInsns bounds
   * each block (1 = one instruction per block). Stops at `until`, after `count` instructions, or
   * at a trap.
   */
  runInterp(init: GuestState, data: Uint8Array, stop: Stop, codeLen: number, maxInsns = 50,
    beforeBlock?: (s: GuestState) => void, backend: 'interp' | 'codegen' = 'interp'): Outcome {
    this.data.bytes.set(data);
    const state = init.clone();
    const end = CODE + codeLen;
    // The lifter sees only the code under test, so a block cannot run past it.
    const fetch = (a: number, n: number): Uint8Array | undefined =>
      a >= CODE && a < end ? this.code.bytes.subarray(a - CODE, Math.min(end, a + n) - CODE) : undefined;
    const env: InterpEnv = { mem: this.mem, dirty: {} };
    let insns = 0;
    let fault: Fault;
    for (let steps = 0; steps < 100000; steps++) {
      const rip = state.rip;
      if (stop.until !== undefined && rip === stop.until) break;
      if (stop.count !== undefined && insns >= stop.count) break;
      const limit = stop.count !== undefined ? Math.min(maxInsns, stop.count - insns) : maxInsns;
      beforeBlock?.(state);
      const sb: IRSB = liftBlock(fetch, rip, { maxInsns: limit });
      this.blocksLifted++;
      if (sb.jk === 'NoDecode') throw new Error(`not lifted at 0x${rip.toString(16)}`);
      const errs = checkIRSB(sb);
      if (errs.length) throw new Error(`ill-formed IR at 0x${rip.toString(16)}:\n${errs.join('\n')}\n${ppIRSB(sb)}`);
      try {
        const ex = backend === 'codegen' ? compileBlock(optimize(sb))(state, env) : interpret(sb, state, env);
        insns += countExecuted(sb, ex.insnAddr, ex.jk, ex.next === ex.insnAddr);
        if (ex.jk === 'SigFPE') { fault = 'DE'; break; }
        if (ex.jk === 'SigSEGV') { fault = 'GP'; break; }
        if (ex.jk === 'SigILL') { fault = 'UD'; break; }
        if (ex.jk === 'SigTRAP') { fault = 'BP'; break; }
      } catch (e) {
        if (e instanceof GuestMemoryFault) { fault = 'mem'; break; }
        throw e;
      }
    }
    return { state, data: this.data.bytes.slice(), fault, insns };
  }

  close(): void {
    this.uc.close();
  }
}

/** Instructions completed by a block run that left after the instruction at insnAddr. */
function countExecuted(sb: IRSB, lastAddr: number, jk: string, restarted: boolean): number {
  let n = 0;
  for (const s of sb.stmts) {
    if (s.tag !== 'imark') continue;
    n++;
    if (s.addr === lastAddr) break;
  }
  // A trap or a rep loop iteration that goes back to the same instruction did not complete it.
  return jk.startsWith('Sig') || restarted ? n - 1 : n;
}
