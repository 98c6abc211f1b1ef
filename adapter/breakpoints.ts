/**
 * Source-line, function and instruction breakpoints: a table of addresses that the runtime's
 * instruction hook consults before every instruction (see runtime.ts for why there is one hook
 * on every instruction rather than one per address). A hit asks the run loop to stop before the
 * instruction; resuming from that address would hit it again at once, so the next hit there by
 * the same thread is skipped.
 */
import type { DebugInfo } from '../engine/debuginfo/debuginfo';
import type { GuestProcess } from '../engine/process/guest-process';

export type BreakpointKind = 'source' | 'function' | 'instruction' | 'entry';

/** A breakpoint as the client sees it. */
export interface RuntimeBreakpoint {
  id: number;
  kind: BreakpointKind;
  verified: boolean;
  /** Source breakpoints: the requested file; the line actually used. */
  file?: string;
  line?: number;
  /** Function breakpoints: the name. */
  name?: string;
  /** Instruction breakpoints: the address. */
  address?: number;
  /** Where it is planted. */
  addresses: number[];
  message?: string;
}

export class Breakpoints {
  private nextId = 1;
  private readonly byAddress = new Map<number, Set<RuntimeBreakpoint>>();
  private readonly bySource = new Map<string, RuntimeBreakpoint[]>();
  private functions: RuntimeBreakpoint[] = [];
  private instructions: RuntimeBreakpoint[] = [];
  private entry: RuntimeBreakpoint | undefined;
  private skip: { addr: number; thread: number } | undefined;
  /** The breakpoints of the last hit (set by check, taken by the stop). */
  hit: RuntimeBreakpoint[] = [];

  /** @param enabled false in a run without debugging: requests are accepted but nothing stops. */
  constructor(private readonly proc: GuestProcess, private readonly debug: () => DebugInfo, private readonly enabled = true) {}

  /** Replaces the breakpoints of one source file. */
  setSource(file: string, lines: number[]): RuntimeBreakpoint[] {
    for (const bp of this.bySource.get(file) ?? []) this.unplant(bp);
    const bps = lines.map((line) => this.plant({ id: this.nextId++, kind: 'source', verified: false, file, line, addresses: [] }));
    this.bySource.set(file, bps);
    return bps;
  }

  /** Replaces the function breakpoints. */
  setFunctions(names: string[]): RuntimeBreakpoint[] {
    for (const bp of this.functions) this.unplant(bp);
    this.functions = names.map((name) => this.plant({ id: this.nextId++, kind: 'function', verified: false, name, addresses: [] }));
    return this.functions;
  }

  /** Replaces the instruction breakpoints. */
  setInstructions(addresses: number[]): RuntimeBreakpoint[] {
    for (const bp of this.instructions) this.unplant(bp);
    this.instructions = addresses.map((address) => this.plant({ id: this.nextId++, kind: 'instruction', verified: false, address, addresses: [] }));
    return this.instructions;
  }

  /** A one-shot breakpoint at main, or at an address (stopOnEntry); false when there is no main. */
  setEntry(address?: number): boolean {
    if (this.entry) this.unplant(this.entry);
    this.entry = this.plant(address === undefined
      ? { id: 0, kind: 'entry', verified: false, name: 'main', addresses: [] }
      : { id: 0, kind: 'entry', verified: false, address, addresses: [] });
    return this.entry.verified;
  }

  /** Removes the entry breakpoint after it was reached. */
  clearEntry(): void {
    if (this.entry) this.unplant(this.entry);
    this.entry = undefined;
  }

  /**
   * Plants breakpoints that had no address yet (their code was not loaded: a library mapped
   * later). Returns the ones that became verified.
   */
  resolvePending(): RuntimeBreakpoint[] {
    const all = [...[...this.bySource.values()].flat(), ...this.functions, ...this.instructions, ...(this.entry ? [this.entry] : [])];
    return all.filter((bp) => !bp.verified && this.plant(bp).verified);
  }

  /** Resuming at addr: do not stop there again before moving on. */
  skipOnce(addr: number): void {
    this.skip = this.byAddress.has(addr) ? { addr, thread: this.proc.current.number } : undefined;
  }

  /** Called before every instruction: true when a breakpoint stops the guest at pc. */
  check(pc: number): boolean {
    const set = this.byAddress.get(pc);
    if (!set) return false;
    const s = this.skip;
    this.skip = undefined;
    if (s && s.addr === pc && s.thread === this.proc.current.number) return false;
    this.hit = [...set];
    return true;
  }

  /** Whether any breakpoint is set (the instruction hook's fast path). */
  get empty(): boolean {
    return this.byAddress.size === 0;
  }

  private plant(bp: RuntimeBreakpoint): RuntimeBreakpoint {
    if (!this.enabled) {
      bp.message = 'breakpoints are ignored in a run without debugging';
      return bp;
    }
    const addrs = this.resolve(bp);
    if (addrs.length === 0) {
      bp.message ??= 'no code at this location (yet): the breakpoint is pending';
      return bp;
    }
    bp.addresses = addrs;
    bp.verified = true;
    delete bp.message;
    for (const a of addrs) {
      let set = this.byAddress.get(a);
      if (!set) this.byAddress.set(a, (set = new Set()));
      set.add(bp);
    }
    return bp;
  }

  private unplant(bp: RuntimeBreakpoint): void {
    for (const a of bp.addresses) {
      const set = this.byAddress.get(a);
      set?.delete(bp);
      if (set && set.size === 0) this.byAddress.delete(a);
    }
    bp.addresses = [];
  }

  private resolve(bp: RuntimeBreakpoint): number[] {
    const info = this.debug();
    switch (bp.kind) {
      case 'source': {
        const file = bp.file as string;
        // The line table may hold the full path or only what gcc was given: try the path, then the name.
        let found = info.lineToAddresses(file, bp.line as number);
        if (found.length === 0 && file.includes('/')) found = info.lineToAddresses(file.slice(file.lastIndexOf('/') + 1), bp.line as number);
        if (found.length) bp.line = found[0].line;
        return found.map((f) => f.address);
      }
      case 'function': return info.functionEntries(bp.name as string);
      case 'entry': case 'instruction':
        if (bp.name !== undefined) return info.functionEntries(bp.name);
        return this.proc.mem.find(bp.address as number) ? [bp.address as number] : [];
    }
  }
}
