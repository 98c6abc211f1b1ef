/**
 * Memcheck on the translator: the instrumentation pass (vbits/) over every block, and the
 * run-time helpers its code calls — shadow loads and stores with the addressability check, the
 * reports for undefined conditions and values, stack-pointer tracking (memory below the stack
 * pointer is dead: no-access; a new frame is undefined), and the definedness of syscall
 * register arguments. Reports from inside translated code first write the state to Unicorn at
 * the reporting instruction, so that stacks unwind from there.
 */
import { SYSCALL_TABLE } from '../kernel/syscall-table';
import type { SyscallDecl } from '../kernel/syscall-decl';
import { toNum } from '../jit/bigint-bits';
import { GuestState, gprOff, OFF, ORIGIN_OFFSET, SHADOW_OFFSET } from '../jit/guest-state';
import type { DirtyFn } from '../jit/interp';
import type { JitExecutor, JitTool } from '../process/jit-executor';
import * as R from '../errors/records';
import { instrumentMemcheck, MC_DIRTY } from './vbits';
import type { DefinednessDetail } from './vbits';
import { MC_ORIGIN_DIRTY } from './vbits/origins';
import type { Memcheck } from './memcheck';

/** amd64's red zone below the stack pointer, addressable (Valgrind's VG_STACK_REDZONE_SZB). */
const REDZONE = 128;
/** A larger stack-pointer move is a switch to another stack, not a frame (Valgrind's --max-stackframe default). */
const MAX_STACKFRAME = 2000000;
/** Registers of syscall arguments, in order (rdi, rsi, rdx, r10, r8, r9) by encoding. */
const ARG_REGS = [7, 6, 2, 10, 8, 9];
const SYSCALLS = new Map<number, SyscallDecl>(SYSCALL_TABLE.map((d) => [d.nr, d]));

/** Options of the translated checks. */
export interface TranslatedCheckOptions {
  /** --undef-value-errors: check definedness at all (no: only addressability, as memcheck). */
  readonly undefValueErrors: boolean;
  /** --expensive-definedness-checks: where exact rules replace the cheap ones (vbits/detail.ts). */
  readonly detail: DefinednessDetail;
  /** --track-origins=yes: undefined values carry where they were created. */
  readonly trackOrigins: boolean;
}

/** Memcheck's part of the translator: instrumentation, helpers and register-change hooks. */
export function memcheckJitTool(mc: Memcheck, opts: TranslatedCheckOptions, jit: () => JitExecutor | undefined): JitTool {
  const { shadow } = mc;
  const origins = mc.origins;
  /** Stack-allocation otags by the address of the instruction that moved the stack pointer. */
  const stackTags = new Map<number, number>();
  const stackTag = (ia: number): number => {
    let t = stackTags.get(ia);
    if (t === undefined && origins) {
      t = origins.tags.tag('stack', mc.contexts.intern([ia]));
      stackTags.set(ia, t);
    }
    return t ?? 0;
  };
  const newStack = (from: number, len: number, ia: number): void => {
    shadow.makeUndefined(from, len);
    if (origins) origins.mem.set(from, len, stackTag(ia));
  };
  // A popped frame dies (a larger move is a switch to another stack).
  const popped = (oldSp: number, newSp: number): void => {
    if (newSp > oldSp && newSp - oldSp <= MAX_STACKFRAME) shadow.makeNoAccess(oldSp - REDZONE, newSp - oldSp);
  };
  // A new frame is undefined; a larger move is a switch to another stack.
  const spMoved = (oldSp: number, newSp: number, ia: number): void => {
    if (newSp < oldSp) {
      if (oldSp - newSp <= MAX_STACKFRAME) newStack(newSp - REDZONE, oldSp - newSp, ia);
    } else {
      popped(oldSp, newSp);
    }
  };
  const here = (ia: number): void => jit()?.materialize(ia);
  const access = (write: boolean, addr: number, size: number, ia: number): void => {
    here(ia);
    mc.invalidGuestAccess(write, addr, size);
  };
  const loadV = (ia: number, addr: number, size: number): bigint => {
    if (shadow.checkAccess(addr, size)) return opts.undefValueErrors ? shadow.loadV(addr, size) : 0n;
    access(false, addr, size, ia);
    // Unaddressable bytes read as defined, so that one bad read gives one report.
    return 0n;
  };
  const storeV = (ia: number, addr: number, size: number, v: bigint): void => {
    if (!shadow.checkAccess(addr, size)) {
      // memcheck checks a 16-byte store as two 8-byte ones (its reports say "of size 8").
      if (size === 16) {
        if (!shadow.checkAccess(addr, 8)) access(true, addr, 8, ia);
        if (!shadow.checkAccess(addr + 8, 8)) access(true, addr + 8, 8, ia);
      } else {
        access(true, addr, size, ia);
      }
    }
    shadow.storeV(addr, size, opts.undefValueErrors ? v : 0n);
  };
  const dirty: Record<string, DirtyFn> = {
    [MC_DIRTY.loadV]: (ia, a, sz) => loadV(ia, toNum(a), toNum(sz)),
    [MC_DIRTY.storeV]: (ia, a, sz, v) => {
      storeV(ia, toNum(a), toNum(sz), v);
      return undefined;
    },
    [MC_DIRTY.condFail]: (ia, otag) => {
      here(ia);
      mc.report(R.uninitCondition(mc.withOrigin(mc.common(mc.here()), otag)));
      return undefined;
    },
    [MC_DIRTY.valueFail]: (ia, size, otag) => {
      here(ia);
      mc.report(R.uninitValue(Number(size), mc.withOrigin(mc.common(mc.here()), otag)));
      return undefined;
    },
    [MC_ORIGIN_DIRTY.loadO]: (_ia, a, sz) => BigInt(origins ? origins.mem.get(toNum(a), toNum(sz)) : 0),
    [MC_ORIGIN_DIRTY.storeO]: (_ia, a, sz, otag) => {
      origins?.mem.set(toNum(a), toNum(sz), toNum(otag));
      return undefined;
    },
    [MC_DIRTY.redzoneUndefined]: (_ia, sp, next) => {
      // Its origin is where control goes: the callee's entry (or the return address), as VEX has it.
      newStack(toNum(sp) - REDZONE, REDZONE, toNum(next));
      return undefined;
    },
    [MC_DIRTY.spChange]: (ia, o, n) => {
      spMoved(toNum(o), toNum(n), ia);
      return undefined;
    },
    [MC_DIRTY.spReturn]: (ia, o, n, next) => {
      const newSp = toNum(n);
      spMoved(toNum(o), newSp, ia);
      newStack(newSp - REDZONE, REDZONE, toNum(next));
      return undefined;
    },
  };
  return {
    instrument: (sb) => instrumentMemcheck(sb, { detail: opts.detail, trackSp: true, origins: opts.trackOrigins && !!origins }),
    instrumentFast: opts.trackOrigins ? undefined : (sb) => instrumentMemcheck(sb, { trackSp: true, fast: true }),
    dirty,
    fuse: { load: MC_DIRTY.loadV, store: MC_DIRTY.storeV },
    fused: (mem) => ({
      v: 0n,
      load(ia, addr, size) {
        this.v = loadV(ia, addr, size);
        return mem.load(addr, size);
      },
      store(ia, addr, size, vbits, value) {
        storeV(ia, addr, size, vbits);
        mem.store(addr, size, value);
      },
    }),
    threadStarted: (_t, sp) => {
      // Everything below the red zone of the first stack pointer is dead.
      const r = mc.proc.mem.find(sp - 1);
      if (r && sp - REDZONE > r.start) shadow.makeNoAccess(r.start, sp - REDZONE - r.start);
    },
    externalSpChange: (oldSp, newSp) => {
      if (newSp < oldSp && oldSp - newSp <= MAX_STACKFRAME) {
        // The engine pushed something (a signal frame, exit-time calls): it wrote those bytes.
        shadow.makeDefined(newSp, oldSp - newSp);
        shadow.makeUndefined(newSp - REDZONE, REDZONE);
      } else {
        popped(oldSp, newSp);
      }
    },
    beforeSyscall: (s) => {
      if (opts.undefValueErrors) checkSyscallRegisters(mc, s);
    },
  };
}

// "Syscall param write(fd) contains uninitialised byte(s)": the declared register arguments
// must be defined (int-sized ones in their low 4 bytes).
function checkSyscallRegisters(mc: Memcheck, s: GuestState): void {
  const nr = Number(s.u64[OFF.GPR >> 3]);
  const decl = SYSCALLS.get(nr);
  if (!decl) return;
  decl.args.forEach((arg, i) => {
    if (i >= ARG_REGS.length) return;
    const size = arg.kind === 'int' || arg.kind === 'uint' || arg.kind === 'fd' || arg.kind === 'dirfd' ? 4 : 8;
    const off = gprOff(ARG_REGS[i]) + SHADOW_OFFSET;
    if (s.bytes.subarray(off, off + size).some((b) => b !== 0)) {
      const otag = s.u64[(gprOff(ARG_REGS[i]) + ORIGIN_OFFSET) >> 3];
      mc.report(R.syscallParamRegister(`${decl.name}(${arg.name})`, mc.withOrigin(mc.common(mc.here()), otag)));
    }
  });
}
