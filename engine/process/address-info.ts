/**
 * What the core knows of a guest address that no tool block covers, in the order Valgrind 3.19's
 * describe_addr tries (without --read-var-info): a data symbol of a loaded object; a thread's
 * stack between its stack pointer (less the 128-byte red zone) and its top, with the frame that
 * owns the address; the Text, Data, BSS, GOT, PLT, GOTPLT or OPD section of an object; a thread's
 * stack below its stack pointer, or the guard page under it; the brk data segment; any other
 * mapping by its permissions and file; else unknown. A tool (memcheck) asks after its own heap.
 */
import { X86 } from '../cpu/x86-const';
import type { AddressInfo } from '../errors/address-description';
import type { ErrorFrame } from '../errors/error-record';
import { pageCeil } from '../memory/guest-memory';
import type { GuestProcess } from './guest-process';
import type { Thread } from './thread';

/** amd64's red zone below the stack pointer, which still belongs to the live frame. */
const STACK_REDZONE = 128;
/** A frame larger than this is not believed (Valgrind's sanity bound, 64 MiB). */
const MAX_FRAME = 0x4000000;

/** One live thread's stack as describe_addr sees it. */
interface ThreadStack {
  thread: Thread;
  sp: number;
  /** The whole stack mapping, [low, top). */
  low: number;
  top: number;
  /** Reads the thread's registers (loaded in the CPU, or saved). */
  reg: (ucReg: number) => bigint;
}

/** Describes addr as Valgrind's core does; numCallers bounds the stack walked to find a frame. */
export function describeGuestAddress(proc: GuestProcess, addr: number, numCallers: number): AddressInfo {
  const debug = proc.debug.get();
  const sym = debug.dataSymbolAt(addr);
  if (sym) return { tag: 'datasym', addr, offset: sym.offset, name: sym.name };

  const stacks = threadStacks(proc);
  for (const s of stacks) {
    if (addr >= s.sp - STACK_REDZONE && addr < s.top) {
      const frame = owningFrame(proc, s, addr, numCallers);
      return frame ? { tag: 'stack', addr, thread: s.thread.number, frame } : { tag: 'stack', addr, thread: s.thread.number };
    }
  }

  const section = debug.sectionAt(addr);
  if (section) {
    const info: AddressInfo = { tag: 'section', addr, section: section.kind, obj: section.obj };
    // Code is further described by the one-frame stack of the address itself.
    if (section.kind === 'Text') info.textFrames = debug.symbolize(addr) as ErrorFrame[];
    return info;
  }

  // Below a stack pointer (a dead frame), or in the inaccessible guard page under a stack.
  const region = proc.mem.find(addr);
  const guard = region !== undefined && region.perms === 0 && !region.name.startsWith('/');
  for (const s of stacks) {
    const inStack = addr >= s.low && addr < s.top;
    const above = pageCeil(addr + 1);
    if (inStack || (guard && above >= s.low && above < s.top)) {
      return { tag: 'stack', addr, thread: s.thread.number, belowStackPointer: { bytes: s.sp - addr, guardPage: !inStack } };
    }
  }

  if (!region) return { tag: 'unknown', addr };
  // The brk data segment: the anonymous mapping that holds the current break.
  if (region.name === '[heap]' && proc.brkCur >= region.start && proc.brkCur <= region.end) {
    return { tag: 'brk', addr, base: proc.brkStart, limit: proc.brkCur };
  }
  const file = region.name.startsWith('/') ? region.name : undefined;
  return {
    tag: 'segment', addr, r: (region.perms & 1) !== 0, w: (region.perms & 2) !== 0, x: (region.perms & 4) !== 0,
    segment: file !== undefined ? 'mapped file' : 'anonymous', ...(file !== undefined ? { file } : {}),
  };
}

// Live threads with their stack pointer and stack extent. A cloned thread's stack ends at the
// page above the stack pointer it started with, as Valgrind registers it.
function threadStacks(proc: GuestProcess): ThreadStack[] {
  const out: ThreadStack[] = [];
  for (const t of proc.threads) {
    if (t.state === 'dead' || !t.stackHigh) continue;
    const loaded = t === proc.current;
    if (!loaded && !t.ctx) continue;
    const ctx = t.ctx;
    const reg = loaded ? (r: number) => proc.uc.reg_read(r) : (r: number) => proc.uc.context_reg_read(ctx!, r);
    const top = pageCeil(t.stackHigh);
    const low = t.stackLow || (proc.mem.find(top - 1)?.start ?? top);
    out.push({ thread: t, sp: Number(reg(X86.RSP)), low, top, reg });
  }
  return out;
}

// The frame whose stack area [sp of the frame, sp of its caller) holds addr, as
// "in frame #N, created by fn (file:line)": the function at the frame's pc, the source file of
// that pc, and the line where the function starts.
function owningFrame(proc: GuestProcess, s: ThreadStack, addr: number, numCallers: number): Extract<AddressInfo, { tag: 'stack' }>['frame'] {
  const { pcs, sps } = proc.debug.pcsAndSps(s.reg, numCallers);
  for (let f = 0; f + 1 < pcs.length; f++) {
    const lo = sps[f];
    const hi = sps[f + 1];
    if (!(lo <= addr && addr < hi && hi - lo <= MAX_FRAME && hi <= s.top - 1 && lo >= s.sp - STACK_REDZONE)) continue;
    const debug = proc.debug.get();
    const ip = pcs[f];
    const at = debug.symbolize(ip);
    const fn = at[at.length - 1]?.fn;
    const file = at[0]?.file;
    const start = debug.symbolAt(ip)?.start;
    const line = start !== undefined ? debug.symbolize(start)[0]?.line : undefined;
    return {
      no: f, ...(fn !== undefined ? { fn } : {}), ...(file !== undefined ? { file } : {}), ...(line !== undefined ? { line } : {}),
    };
  }
  return undefined;
}
